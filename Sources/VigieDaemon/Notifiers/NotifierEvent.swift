import VigieCore

/// One alert transition as handed to notifiers: the feed message, its JSON body, and
/// when the alert started firing (for the webhook's `startsAt`).
struct NotifierEvent: Sendable {
    /// The feed message of the transition.
    var message: AlertFeedMessage
    /// The feed message's JSON object (without `seq`/`epoch`): the exec notifier's stdin.
    var json: [UInt8]
    /// When the alert began firing (ns); the transition's `since` when it never fired.
    var startsAt: Int64

    init(message: AlertFeedMessage, startsAt: Int64) {
        self.message = message
        self.startsAt = startsAt
        var w = JSONWriter(capacity: 1_024)
        w.beginObject()
        message.writeMembers(into: &w)
        w.endObject()
        json = w.bytes
    }
}
