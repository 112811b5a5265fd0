package org.linnet.app.presentation

import org.linnet.sdk.DeliveryState

/** A message's delivery as users see it (the SDK's DeliveryState, folded to what matters). */
enum class MessageStatus(
    /** Shown beside an outgoing message; empty for received ones. */
    val text: String,
) {
    /** Queued or sent, not yet acknowledged by the server. */
    Sending("Sending…"),
    /** The server has it. */
    Sent("Sent"),
    /** The peer's device has it. */
    Delivered("Delivered"),
    /** The peer has seen it. */
    Read("Read"),
    Failed("Not sent"),
    /** An incoming message. */
    Received("");

    companion object {
        fun of(state: DeliveryState): MessageStatus = when (state) {
            DeliveryState.QUEUED, DeliveryState.SENT -> Sending
            DeliveryState.ACKNOWLEDGED -> Sent
            DeliveryState.DELIVERED -> Delivered
            DeliveryState.DISPLAYED -> Read
            DeliveryState.FAILED -> Failed
            DeliveryState.RECEIVED -> Received
        }
    }
}
