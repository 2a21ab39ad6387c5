/*  zch_frame_pub: the checks on a frame client's pub.                      */
#include "zch_frame_pub.h"
#include "zch_auth.h"
#include "zch_frame_reply.h"
#include "zch_topic.h"

bool
zch_frame_pub_admits (zch_conn_t *conn, const zch_frame_cmd_t *cmd, zch_guard_t *guard,
                      const zch_secure_config_t *secure, size_t max_payload, uint64_t *rejected)
{
    const char *reason;
    if (zch_topic_validate (cmd->topic, cmd->topic_len, &reason)
    ||  zch_secure_topic (secure, cmd->topic, cmd->topic_len, &reason)) {
        (*rejected)++;
        zch_frame_reply_err (conn, ZCH_FRAME_E_TOPIC, "invalid topic: ", reason);
        return false;
    }
    if (!zch_guard_publish (guard, conn, cmd->topic, cmd->topic_len))
        return false;
    if (cmd->payload_len > max_payload) {
        (*rejected)++;
        zch_frame_reply_err (conn, ZCH_FRAME_E_TOO_LARGE, "", "payload over --max-payload");
        return false;
    }
    return true;
}

bool
zch_frame_pub_would_pass (zch_conn_t *conn, const char *topic, size_t topic_len, size_t payload_len,
                          const zch_guard_t *guard, const zch_secure_config_t *secure, size_t max_payload)
{
    const zch_token_t *entry = zch_conn_auth (conn);
    return zch_topic_validate (topic, topic_len, NULL) == 0 && payload_len <= max_payload
        && zch_secure_topic (secure, topic, topic_len, NULL) == 0
        && (!guard->auth || (entry && zch_token_may_publish (entry, topic, topic_len)));
}
