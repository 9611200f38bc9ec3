/* What the host (harness/) and the guest agent (bench/) must agree on.
 *
 * Both sides include this header, so a change here changes both binaries:
 * schema versions of the files they exchange, the console lines the host
 * looks for, the names of the files in the cell directory and the 9p tags.
 */
#ifndef SB_PROTOCOL_H
#define SB_PROTOCOL_H

/* cell.json (host -> guest) and result.json (guest -> host). */
#define CELL_SCHEMA_VERSION 1
#define RESULT_SCHEMA_VERSION 1

/* Files in a cell directory that both sides name. */
#define CELL_FILE "cell.json"
#define GUEST_RESULT_FILE "guest-result.json"

/* Every console line of the agent starts with this. */
#define AGENT_LOG_PREFIX "swapbench-agent: "
/* The agent's first line ("start uptime=1.234"). */
#define AGENT_START "start"
/* The agent's line when the measured phase begins ("workload NAME: start"). */
#define AGENT_WORKLOAD "workload "
#define AGENT_MARKER AGENT_LOG_PREFIX AGENT_START
#define WORKLOAD_MARKER AGENT_LOG_PREFIX AGENT_WORKLOAD

/* 9p mount tags: the host root (read-only) and the cell directory. */
#define P9_TAG_HOSTROOT "hostroot"
#define P9_TAG_CELL "cell"
/* Where the guest sees the cell directory. */
#define GUEST_CELL_DIR "/tmp/sb-cell"
/* Where the guest sees the host's /tmp (its own /tmp is a tmpfs). */
#define GUEST_HOST_TMP "/run/swapbench-host-tmp"

#endif
