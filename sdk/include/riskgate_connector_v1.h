/* riskgate connector plugin ABI, major 1 (riskgate-sdk). The Rust mirror is src/abi.rs.
 *
 * A plugin exports exactly one symbol, riskgate_connector_entry_v1, returning a table with static
 * lifetime. Payloads are protobuf messages of riskgate/v1/plugin.proto. Host input (rg_bytes) is
 * borrowed for the call only; plugin output (rg_owned_bytes) is freed only by the plugin's free_bytes.
 * Calls on one instance are serialised. No function may unwind. Minor versions only append fields;
 * a host reads a field only if struct_size covers it.
 */
#ifndef RISKGATE_CONNECTOR_V1_H
#define RISKGATE_CONNECTOR_V1_H

#include <stddef.h>
#include <stdint.h>

#define RG_ABI_MAJOR 1
#define RG_ABI_MINOR 0

enum {
  RG_OK = 0,             /* success */
  RG_TIMEOUT = 1,        /* next_batch: nothing within the timeout */
  RG_END = 2,            /* next_batch: the feed ended */
  RG_ERR_CONFIG = 10,    /* invalid configuration */
  RG_ERR_TRANSIENT = 11, /* temporary failure */
  RG_ERR_FATAL = 12,     /* permanent failure of the instance */
  RG_ERR_PANIC = 13,     /* the plugin panicked; the instance is poisoned */
  RG_ERR_INVALID = 14    /* the host broke the protocol */
};

typedef struct { const uint8_t *ptr; size_t len; } rg_bytes;          /* host-owned, borrowed */
typedef struct { uint8_t *ptr; size_t len; size_t cap; } rg_owned_bytes; /* plugin-owned */

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
} riskgate_connector_v1;

/* On an error status, out holds a PluginError. */
const riskgate_connector_v1 *riskgate_connector_entry_v1(void);

#endif
