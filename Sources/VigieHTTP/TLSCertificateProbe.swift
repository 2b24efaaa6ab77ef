import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Reads the expiry of the certificate a TLS server presents, with a handshake of its
/// own through swift-nio-ssl.
///
/// The certificate is not verified: a self-signed or expired one is read like any other,
/// since the point is to see its expiry coming. SNI carries `host` unless it is an IP
/// address. The calling thread blocks (never an event loop), checking `stopping()`.
public enum TLSCertificateProbe {
    /// The leaf certificate's `notAfter`, ns since the epoch; nil when no handshake
    /// completed within `timeout` ns (refused, not TLS, stopped).
    public static func notAfter(
        host: String,
        port: Int,
        timeout: Int64,
        stopping: @Sendable () -> Bool
    ) -> Int64? {
        guard (1...65_535).contains(port) else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let serverName = HostCheck.isIPLiteral(literal) ? nil : literal
        let amount = TimeAmount.nanoseconds(max(timeout, 1_000_000))
        let group = MultiThreadedEventLoopGroup.singleton
        let handshake = group.any().makePromise(of: Int64.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(amount)
            .channelInitializer { channel in
                do {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: handshake))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let connected = bootstrap.connect(host: literal, port: port)
        connected.whenFailure { handshake.fail($0) }
        let timer = handshake.futureResult.eventLoop.scheduleTask(in: amount) {
            handshake.fail(ChannelError.connectTimeout(amount))
        }
        let outcome = BlockingHTTPClient.wait(
            for: handshake.futureResult,
            stopping: stopping,
            onStop: { handshake.fail(ChannelError.ioOnClosedChannel) }
        )
        timer.cancel()
        connected.whenSuccess { $0.close(promise: nil) }
        guard case .success(let notAfter) = outcome else { return nil }
        return notAfter
    }
}

/// Completes `promise` with the peer certificate's expiry once the handshake is done.
private final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let promise: EventLoopPromise<Int64>

    init(promise: EventLoopPromise<Int64>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            do {
                guard let certificate = try context.pipeline.syncOperations.nioSSL_peerCertificate() else {
                    promise.fail(NIOSSLError.noCertificateToValidate)
                    return
                }
                let (seconds, overflow) = Int64(certificate.notValidAfter).multipliedReportingOverflow(
                    by: 1_000_000_000
                )
                guard !overflow else {
                    promise.fail(NIOSSLError.noCertificateToValidate)
                    return
                }
                promise.succeed(seconds)
            } catch {
                promise.fail(error)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
