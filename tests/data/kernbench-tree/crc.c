/* Checksums: CRC-32 (IEEE, reflected) bytewise and slicing-by-4, CRC-32C
 * (Castagnoli), CRC-16/CCITT-FALSE, Adler-32 and Fletcher-16/32. Tables
 * are computed at first use. */
#include "common.h"

#include <string.h>

static uint32_t crc32_table[4][256];
static uint32_t crc32c_table[256];
static uint16_t crc16_table[256];
static int tables_ready;

static void make_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i, d = i;
		uint16_t e = (uint16_t)(i << 8);

		for (int k = 0; k < 8; k++) {
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			d = d & 1 ? 0x82F63B78u ^ (d >> 1) : d >> 1;
			e = e & 0x8000 ? (uint16_t)((e << 1) ^ 0x1021) : (uint16_t)(e << 1);
		}
		crc32_table[0][i] = c;
		crc32c_table[i] = d;
		crc16_table[i] = e;
	}
	/* Slicing tables: entry [k][i] is the CRC of byte i followed by k zeros. */
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 4; k++)
			crc32_table[k][i] = (crc32_table[k - 1][i] >> 8) ^
					    crc32_table[0][crc32_table[k - 1][i] & 0xff];
	tables_ready = 1;
}

uint32_t crc32_bytewise(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!tables_ready)
		make_tables();
	crc = ~crc;
	while (len--)
		crc = crc32_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t crc32_slice4(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!tables_ready)
		make_tables();
	crc = ~crc;
	while (len >= 4) {
		crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		       (uint32_t)p[3] << 24;
		crc = crc32_table[3][crc & 0xff] ^ crc32_table[2][(crc >> 8) & 0xff] ^
		      crc32_table[1][(crc >> 16) & 0xff] ^ crc32_table[0][crc >> 24];
		p += 4;
		len -= 4;
	}
	while (len--)
		crc = crc32_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!tables_ready)
		make_tables();
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint16_t crc16_ccitt(uint16_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!tables_ready)
		make_tables();
	while (len--)
		crc = (uint16_t)((crc << 8) ^ crc16_table[((crc >> 8) ^ *p++) & 0xff]);
	return crc;
}

uint32_t adler32(uint32_t adler, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t a = adler & 0xffff, b = adler >> 16;

	while (len) {
		/* 5552 bytes is the most that cannot overflow b before the modulo. */
		size_t chunk = len < 5552 ? len : 5552;

		len -= chunk;
		while (chunk--) {
			a += *p++;
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	return b << 16 | a;
}

uint16_t fletcher16(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t a = 0, b = 0;

	for (size_t i = 0; i < len; i++) {
		a = (a + p[i]) % 255;
		b = (b + a) % 255;
	}
	return (uint16_t)(b << 8 | a);
}

uint32_t fletcher32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t a = 0xffff, b = 0xffff;
	size_t words = len / 2;

	while (words) {
		size_t chunk = words < 359 ? words : 359;

		words -= chunk;
		while (chunk--) {
			a += (uint32_t)p[0] << 8 | p[1];
			b += a;
			p += 2;
		}
		a = (a & 0xffff) + (a >> 16);
		b = (b & 0xffff) + (b >> 16);
	}
	if (len & 1) {
		a += (uint32_t)*p << 8;
		b += a;
	}
	a = (a & 0xffff) + (a >> 16);
	b = (b & 0xffff) + (b >> 16);
	a = (a & 0xffff) + (a >> 16);
	b = (b & 0xffff) + (b >> 16);
	return b << 16 | a;
}

uint64_t crc_selftest(uint64_t seed)
{
	static const char check[] = "123456789";
	static unsigned char buf[16384];
	uint64_t rng = seed, digest = 0;

	KB_CHECK(crc32_bytewise(0, check, 9) == 0xCBF43926u, "crc32 check value");
	KB_CHECK(crc32_slice4(0, check, 9) == 0xCBF43926u, "crc32 slice-by-4 check value");
	KB_CHECK(crc32c(0, check, 9) == 0xE3069283u, "crc32c check value");
	KB_CHECK(crc16_ccitt(0xffff, check, 9) == 0x29B1, "crc16-ccitt check value");
	KB_CHECK(adler32(1, "Wikipedia", 9) == 0x11E60398u, "adler32 of Wikipedia");
	KB_CHECK(fletcher16("abcde", 5) == 0xC8F0, "fletcher16 of abcde");

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)kb_rand(&rng);
	for (size_t len = 0; len < sizeof(buf); len = len * 2 + 3) {
		uint32_t a = crc32_bytewise(0, buf, len), b = crc32_slice4(0, buf, len);
		size_t cut = len / 3;

		KB_CHECK(a == b, "crc32 implementations disagree at length %zu", len);
		/* CRCs and Adler-32 can be continued across a split. */
		KB_CHECK(crc32_slice4(crc32_slice4(0, buf, cut), buf + cut, len - cut) == a,
			 "crc32 does not continue at length %zu", len);
		KB_CHECK(adler32(adler32(1, buf, cut), buf + cut, len - cut) ==
			 adler32(1, buf, len), "adler32 does not continue at length %zu", len);
		digest = kb_mix(digest, a);
		digest = kb_mix(digest, crc32c(0, buf, len));
		digest = kb_mix(digest, crc16_ccitt(0xffff, buf, len));
		digest = kb_mix(digest, fletcher32(buf, len));
	}
	/* Any single-bit error changes a CRC. */
	for (int bit = 0; bit < 256; bit++) {
		uint32_t a = crc32_slice4(0, buf, 32);

		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		KB_CHECK(crc32_slice4(0, buf, 32) != a, "bit %d flip not detected", bit);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	return digest;
}
