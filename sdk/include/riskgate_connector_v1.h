/* riskgate connector plugin ABI, major 1 (riskgate-sdk). The Rust mirror is src/abi.rs.
 *
 * A plugin exports exactly one symbol, riskgate_connector_entry_v1, returning a table with static
 * lifetime. Payloads are protobuf messages of riskgate/v1/plugin.proto. Host input (rg_bytes) is
 * borrowed for the call only; plugin output (rg_owned_bytes) is freed only by the plugin's free_bytes.
 * Calls on one instance are serialised. No function may unwind. Minor versions only append fields;
 * a host reads a field only if struct_size covers it.
 *
 * Minor 1 appends set_host (may be NULL). A host calls it once, right after loading and before any
 * other function, if struct_size covers it. The rg_host_v1 it passes, and its ctx, stay valid for
 * the rest of the process; the plugin reads a field of it only if its own struct_size covers it.
 * log() may be called from any thread, concurrently, at any time after that; it never unwinds or
 * calls back into the plugin; target and message are borrowed for the call (UTF-8); records with a
 * level above max_level are dropped by the host. A minor-0 host never calls set_host: logging is
 * then a no-op.
 *
 * Minor 2 appends feed_health and recheck (each may be NULL). feed_health writes the instance's
 * FeedHealth (riskgate/v1/types.proto): what the connector last said about its vendor feed; RG_OK with
 * nothing written means it has said nothing yet. The host calls it on a running instance about once a
 * second and forwards the answer with its heartbeats. recheck takes a PluginRecheck (device ids; none
 * means every device) and returns RG_OK once the request is queued for the connector, which then fetches
 * those devices from its vendor and reports them as ordinary batches; RG_ERR_UNSUPPORTED if the connector
 * takes no rechecks, RG_ERR_TRANSIENT if its queue is full. Both follow the ordinary rules: serialised
 * with the other calls on the instance, no unwinding, errors as PluginError.
 */
#ifndef RISKGATE_CONNECTOR_V1_H
#define RISKGATE_CONNECTOR_V1_H

#include <stddef.h>
#include <stdint.h>

#define RG_ABI_MAJOR 1
#define RG_ABI_MINOR 2

enum {
  RG_OK = 0,             /* success */
  RG_TIMEOUT = 1,        /* next_batch: nothing within the timeout */
  RG_END = 2,            /* next_batch: the feed ended */
  RG_ERR_CONFIG = 10,    /* invalid configuration */
  RG_ERR_TRANSIENT = 11, /* temporary failure */
  RG_ERR_FATAL = 12,     /* permanent failure of the instance */
  RG_ERR_PANIC = 13,     /* the plugin panicked; the instance is poisoned */
  RG_ERR_INVALID = 14,   /* the host broke the protocol */
  RG_ERR_UNSUPPORTED = 15 /* minor 2, recheck: the connector does not take this request */
};

typedef struct { const uint8_t *ptr; size_t len; } rg_bytes;          /* host-owned, borrowed */
typedef struct { uint8_t *ptr; size_t len; size_t cap; } rg_owned_bytes; /* plugin-owned */

enum { /* log levels, most severe first; RG_LOG_OFF only as max_level */
  RG_LOG_OFF = 0, RG_LOG_ERROR = 1, RG_LOG_WARN = 2, RG_LOG_INFO = 3, RG_LOG_DEBUG = 4, RG_LOG_TRACE = 5
};

typedef struct rg_host_v1 { /* minor 1: what the host offers the plugin */
  uint32_t struct_size; /* sizeof(rg_host_v1) as the host was compiled */
  uint32_t max_level;   /* most verbose level the host records */
  void *ctx;            /* passed back to log unchanged */
  void (*log)(void *ctx, uint32_t level, rg_bytes target, rg_bytes message);
} rg_host_v1;

typedef struct riskgate_connector_v1 {
  uint32_t struct_size, abi_major, abi_minor;
  uint32_t (*manifest)(rg_owned_bytes *out);                                  /* PluginManifest */
  uint32_t (*create)(rg_bytes start_pb, void **instance, rg_owned_bytes *out); /* PluginStart in */
  uint32_t (*start)(void *instance, rg_owned_bytes *out);
  uint32_t (*next_batch)(void *instance, uint32_t timeout_ms, rg_owned_bytes *out); /* PluginBatch */
  uint32_t (*ack)(void *instance, rg_bytes ack_pb, rg_owned_bytes *out);      /* PluginAck in */
  uint32_t (*stop)(void *instance, uint32_t deadline_ms, rg_owned_bytes *out);
  void (*destroy)(void *instance);
  void (*free_bytes)(rg_owned_bytes bytes);
  void (*set_host)(const rg_host_v1 *host); /* minor 1; may be NULL */
  uint32_t (*feed_health)(void *instance, rg_owned_bytes *out);             /* minor 2; FeedHealth */
  uint32_t (*recheck)(void *instance, rg_bytes recheck_pb, rg_owned_bytes *out); /* minor 2; PluginRecheck in */
} riskgate_connector_v1;

/* On an error status, out holds a PluginError. */
const riskgate_connector_v1 *riskgate_connector_entry_v1(void);

#endif
