import VigieCore
import ZeroMQ

/// Serves the control sockets: hands each request to ``ControlHandler`` and carries
/// out what it answers — a reply sent now or held until the log is durable, a request
/// forwarded to the history thread, a reload. Engine thread only.
final class ControlServer {
    let handler: ControlHandler
    private let receiver: MessageReceiver

    init(handler: ControlHandler, receiver: MessageReceiver) {
        self.handler = handler
        self.receiver = receiver
    }

    /// Serves the message in ``MessageReceiver`` received on control `socket`.
    func serve(
        socket: Socket,
        access: ControlHandler.Access,
        turn: ControlHandler.Turn,
        history: HistoryLink?,
        reload: () -> ConfigReloader.Outcome
    ) {
        let frames = receiver.frames
        let n = receiver.count
        guard n >= 2 else { return }  // a routing id alone: nothing to answer
        let bodyIndex = n - 1
        let envelope = 0..<bodyIndex
        let request = frames[bodyIndex].bytes
        let userID = access == .byKey ? frames[bodyIndex].metadata("User-Id") ?? "" : nil
        switch handler.handle(request: request, userID: userID, access: access, turn: turn) {
        case .reply(let body):
            send(body, on: socket, after: envelope, of: frames)
        case .replyWhenDurable(let body, let position):
            handler.replies.hold(socket, envelope: envelope, of: frames, position: position) { $0.appendFrame(body) }
        case .forwardToHistory(let decoded):
            guard let problem = forward(decoded, from: socket, envelope: envelope, of: frames, to: history) else {
                return
            }
            send(handler.failure("\(decoded.op): \(problem)"), on: socket, after: envelope, of: frames)
        case .reload:
            send(handler.reloadReply(reload()), on: socket, after: envelope, of: frames)
        }
    }

    /// Forwards a decoded `history`/`events` request; returns why it could not, or nil.
    private func forward(
        _ request: ControlRequest,
        from socket: Socket,
        envelope: Range<Int>,
        of frames: [Message],
        to history: HistoryLink?
    ) -> String? {
        guard let history else { return "history is not available" }
        guard let index = handler.endpoints.control.firstIndex(where: { $0 === socket }) else {
            return "unknown control socket"
        }
        return history.forward(controlIndex: index, envelope: envelope, frames: frames, request: request)
    }

    /// Sends `frames[envelope]` then `body`; a peer that is gone or full costs a counted drop.
    private func send(_ body: [UInt8], on socket: Socket, after envelope: Range<Int>, of frames: [Message]) {
        if !socket.sendReply(envelope: envelope, of: frames, body) {
            handler.state.statistics.repliesDropped += 1
        }
    }
}
