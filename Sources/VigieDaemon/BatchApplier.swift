import VigieConfig
import VigieCore

/// Parses payloads in place and applies every accepted line to the KPI engine, under
/// the `[ingest]` policy; collects the line errors an ACK lists. The one path samples
/// take, live and at replay. Engine thread only.
final class BatchApplier {
    private let state: EngineState
    private var parser: LineProtocolParser
    private var policy: IngestPolicy
    /// The errors of the batch being applied (at most `VGI1.maxListedErrors`).
    private(set) var lineErrors: [LineProtocolError] = []

    init(state: EngineState) {
        self.state = state
        self.parser = LineProtocolParser(limits: state.configuration.ingest.lineProtocolLimits)
        self.policy = state.configuration.ingest.policy
    }

    /// The parser of the running configuration (prefix filtering reads lines with it).
    var lineParser: LineProtocolParser { parser }

    /// Takes the limits and policy of the running configuration (after a reload).
    func reconfigure() {
        parser = LineProtocolParser(limits: state.configuration.ingest.lineProtocolLimits)
        policy = state.configuration.ingest.policy
    }

    /// Starts a batch: no line errors yet.
    func beginBatch() {
        lineErrors.removeAll(keepingCapacity: true)
    }

    /// Parses `bytes` in place (line numbers from `firstLine`) and applies every
    /// accepted line as received at `now`; counts accepted and rejected samples.
    func apply(
        _ bytes: UnsafeRawBufferPointer,
        firstLine: Int,
        now: Int64,
        collectErrors: Bool
    ) -> (accepted: Int, rejected: Int, nextLine: Int) {
        let policy = self.policy
        let engine = state.engine
        var accepted = 0
        var rejected = 0
        let summary =
            parser.parse(bytes, firstLineNumber: firstLine) { line in
                if let rejection = policy.rejection(
                    lineNumber: line.lineNumber,
                    timestamp: line.timestamp,
                    receivedAt: now
                ) {
                    rejected += 1
                    if case .tooManyLines = rejection { state.statistics.limitHits.linesPerBatch += 1 }
                    if collectErrors { recordLineError(line.lineNumber, rejection.reason) }
                    return
                }
                engine.apply(line, receivedAt: now, now: now)
                accepted += 1
            } onError: { error in
                rejected += 1
                if let limit = error.limit { state.statistics.limitHits.count(limit) }
                if collectErrors, lineErrors.count < VGI1.maxListedErrors { lineErrors.append(error) }
            }
        state.statistics.samplesAccepted += UInt64(accepted)
        state.statistics.samplesRejected += UInt64(rejected)
        return (accepted, rejected, summary.nextLineNumber)
    }

    /// Lists a line refused before parsing (outside a key's prefixes, the policy).
    func recordLineError(_ line: Int, _ reason: String) {
        if lineErrors.count < VGI1.maxListedErrors {
            lineErrors.append(LineProtocolError(line: line, column: 1, reason: reason))
        }
    }

    /// Puts the listed errors in line order (prefix refusals came first).
    func sortLineErrors() {
        lineErrors.sort { $0.line < $1.line }
    }
}
