import Logging
import VigieConfig
import VigieCore
import ZeroMQ

/// The engine thread's side of history: starts the history thread (``HistoryRecorder``),
/// tells it how far the log is durable, forwards `history`/`events` requests to it over
/// a PAIR socket and sends its replies back out on the control socket they came in on.
/// Without history (disabled, or a database that cannot be opened) the daemon still
/// ingests, alerts and publishes; ``unavailable`` says why. Engine thread only.
final class HistoryLink {
    private(set) var recorder: HistoryRecorder?
    /// The PAIR socket queries and replies go through; polled by the loop.
    private(set) var socket: Socket?
    /// Why there is no history, when there is none.
    private(set) var unavailable: String?
    private let logger: Logger

    /// Opens the history database and starts its threads, reading the log from
    /// `walDirectory` up to `durable`.
    init(configuration: VigieConfiguration, walDirectory: String, durable: UInt64, context: ZMQContext, logger: Logger)
    {
        self.logger = logger
        guard configuration.history.enabled else {
            unavailable = "history is disabled ([history] enabled = false)"
            return
        }
        do {
            let recorder = try HistoryRecorder(configuration: configuration, walDirectory: walDirectory, logger: logger)
            let socket = try context.makeSocket(.pair)
            try socket.setLinger(0)
            try socket.bind(recorder.endpoint)
            self.socket = socket
            self.recorder = recorder
            recorder.publish(durable: durable)
            recorder.start(context: context)
        } catch {
            unavailable = "history unavailable: \(error)"
            logger.error("history unavailable: running without it", metadata: ["error": "\(error)"])
        }
    }

    /// Forwards a decoded request that came in on control socket number `controlIndex`
    /// with `frames[envelope]`: the request waits in the recorder's mailbox, the frames
    /// and its number go over the socket. Returns why it could not, or nil.
    func forward(controlIndex: Int, envelope: Range<Int>, frames: [Message], request: ControlRequest) -> String? {
        guard let socket, let recorder else { return unavailable ?? "history is not available" }
        let number = recorder.requests.post(request)
        do {
            // The first frame decides: a PAIR with no room (or no peer) takes none of the
            // message; once it takes the first frame it takes the rest.
            guard try socket.send(String(controlIndex), more: true, dontWait: true) else {
                recorder.requests.take(number)
                return "the history thread is busy; retry"
            }
            for f in envelope {
                try frames[f].withUnsafeBytes { _ = try socket.send($0, more: true, dontWait: true) }
            }
            _ = try socket.send(String(number), more: false, dontWait: true)
            return nil
        } catch {
            recorder.requests.take(number)
            return "the history thread is busy (\(error)); retry"
        }
    }

    /// Sends the history thread's replies (control socket index, envelope…, body) out
    /// on `control`; returns how many could not be sent.
    func drainReplies(to control: [Socket]) -> UInt64 {
        guard let socket else { return 0 }
        var dropped: UInt64 = 0
        while let reply = try? socket.receiveMultipart(dontWait: true) {
            guard reply.count >= 2, let index = Int(reply[0].string), index >= 0, index < control.count
            else { continue }
            let target = control[index]
            do {
                for (i, frame) in reply.enumerated().dropFirst() {
                    try frame.withUnsafeBytes { _ = try target.send($0, more: i < reply.count - 1, dontWait: true) }
                }
            } catch {
                dropped += 1
            }
        }
        return dropped
    }

    /// The log is durable up to `lsn`: the history thread may read that far.
    func publish(durable lsn: UInt64) {
        recorder?.publish(durable: lsn)
    }

    /// Where the history thread has read the log to (`.max` without history: it holds nothing back).
    var position: UInt64 { recorder?.position.load(ordering: .acquiring) ?? .max }

    /// Takes the KPIs of a new configuration.
    func reconfigure(kpis: [KPIDefinition]) {
        recorder?.reconfigure(kpis: kpis)
    }

    /// Reads what is durable up to `lsn`, then stops the history threads (a backlog waits
    /// for the next start), and closes the socket.
    func stop(durable lsn: UInt64?) {
        if let recorder {
            if let lsn { recorder.publish(durable: lsn) }
            recorder.stop()
        }
        socket?.close(linger: 0)
    }
}
