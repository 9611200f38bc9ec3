# static: static_bytes_per_slot (B, lower is better): mean +- stddev per topology, a bar per kernel
# Written by swapbench plot; run 'gnuplot bar-static-static_bytes_per_slot.gp' in this directory to render it again.
reset
set encoding utf8
set datafile missing "NaN"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set key outside right top
set xlabel "topology"
set yrange [0:*]
set ylabel "B"
set title "static: static_bytes_per_slot (B, lower is better)" . "\n" . "mean +- stddev over n=1 ok iterations; accel tcg"
set xtics ("nvme-64g" 0, "zram" 1)
set xrange [-0.6:1.6]

set terminal pngcairo size 900,560 noenhanced font "sans,10"
set output "bar-static-static_bytes_per_slot.png"
set grid ytics
plot "bar-static-static_bytes_per_slot.dat" using 2:3 lt 1 title "6.12", \
     "bar-static-static_bytes_per_slot.dat" using 5:6 lt 2 title "6.18", \
     "bar-static-static_bytes_per_slot.dat" using 8:9 lt 3 title "7.2", \
     "bar-static-static_bytes_per_slot.dat" using 11:12 lt 4 title "7.3"
set output

set terminal dumb size 79,24 mono noenhanced
set output "bar-static-static_bytes_per_slot.txt"
unset grid
plot "bar-static-static_bytes_per_slot.dat" using 2:3 lt 1 title "6.12 (*)", \
     "bar-static-static_bytes_per_slot.dat" using 5:6 lt 2 title "6.18 (#)", \
     "bar-static-static_bytes_per_slot.dat" using 8:9 lt 3 title "7.2 ($)", \
     "bar-static-static_bytes_per_slot.dat" using 11:12 lt 4 title "7.3 (%)"
set output
