import Logging
import VigieConfig
import VigieStore
import ZeroMQ

/// The engine's background services, in the order they start (``EngineLoop`` calls
/// these; ``ServiceStack/stopAll()`` stops them in reverse).
extension ServiceStack {
    /// The ZAP handler admitting CURVE clients (`[security] curve = true`), else nil.
    /// First: libzmq asks it from the first CURVE handshake on.
    func startZAP(_ security: SecurityConfiguration, context: ZMQContext) throws -> ZAPHandler? {
        guard security.curve else { return nil }
        let logger = self.logger
        return try start("zap") {
            let zap = ZAPHandler(context: context, keys: security.authorized, logger: logger)
            try zap.start()
            return zap
        } stop: {
            $0.stop()
        }
    }

    /// The notifier workers. A reload replaces them: those running at the stop stop.
    func startNotifiers(_ state: EngineState) {
        start("notifiers", { state.alerts.notifiers.start() }, stop: { state.alerts.notifiers.stop() })
    }

    /// Recovers the state and opens the write-ahead log, whose syncer thread runs until
    /// the log is closed; a reply still held when it closes is released then.
    func startLog(
        keeper: StateKeeper,
        replies: DurableReplies,
        syncObserver: (@Sendable (UInt64) -> Void)?,
        replayAction: (_ request: UnsafeRawBufferPointer, _ at: Int64) -> String?
    ) throws -> WALWriter {
        let state = keeper.state
        return try start("write-ahead log") {
            try keeper.recover(replayAction: replayAction, syncObserver: syncObserver)
        } stop: { wal in
            do {
                try wal.close()
                state.statistics.repliesDropped += replies.release(upTo: wal.durableLSN, producers: &state.producers)
            } catch {
                state.logger.error("closing the write-ahead log failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The history threads, reading the log up to what is durable; at the stop they
    /// read what the log made durable last.
    func startHistory(_ state: EngineState, wal: WALWriter, walDirectory: String, context: ZMQContext) -> HistoryLink {
        start("history") {
            HistoryLink(
                configuration: state.configuration,
                walDirectory: walDirectory,
                durable: wal.durableLSN,
                context: context,
                logger: state.logger
            )
        } stop: {
            $0.stop(durable: wal.durableLSN)
        }
    }

    /// The checkpoint writer; it keeps the log segments history has not read yet.
    func startCheckpointWriter(_ keeper: StateKeeper, history: HistoryLink) {
        let recorder = history.recorder
        start(
            "checkpoint writer",
            { keeper.startWriter { recorder?.position.load(ordering: .acquiring) ?? .max } },
            stop: { keeper.stopWriter() }
        )
    }
}
