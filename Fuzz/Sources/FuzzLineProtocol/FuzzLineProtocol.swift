import Foundation
import VigieCore

/// libFuzzer target: one input is one batch frame of line protocol, parsed in place and
/// applied to a KPI engine the way the daemon does. Crashes, sanitizer reports and the
/// invariants below are findings.
enum FuzzLineProtocol {
    // libFuzzer calls the target from one thread only.
    nonisolated(unsafe) static let parser = LineProtocolParser()
    static let now: Int64 = 1_764_400_000_000_000_000
    nonisolated(unsafe) static let engine: KPIEngine = {
        let site = SampleSelector(metric: "m")
        let any = SampleSelector(
            metric: "guichet_attente",
            field: "value",
            filters: [TagFilter(key: "site", value: "nord")]
        )
        let kpis = [
            KPIDefinition(
                name: "m.p90",
                selector: site,
                groupBy: ["site"],
                aggregate: .quantile(0.9),
                window: .sliding(nanoseconds: 60_000_000_000),
                maxSeries: 64
            ),
            KPIDefinition(
                name: "m.mean",
                selector: site,
                groupBy: ["site", "svc"],
                aggregate: .mean,
                window: .today,
                maxSeries: 64
            ),
            KPIDefinition(
                name: "attente.share",
                selector: any,
                aggregate: .share(threshold: 15, below: true),
                window: .sliding(nanoseconds: 3_600_000_000_000)
            ),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: TimeZone(identifier: "Europe/Paris") ?? .current, now: now)
        engine.trackChanges(forKPIs: Set(kpis.indices))
        return engine
    }()

    static func run(_ payload: UnsafeRawBufferPointer) {
        var accepted = 0
        var rejected = 0
        let summary = parser.parse(payload, firstLineNumber: 1) { line in
            precondition(line.measurement.count > 0, "accepted line without a measurement")
            precondition(!line.fields.isEmpty, "accepted line without a field")
            precondition(line.lineNumber >= 1, "line number \(line.lineNumber)")
            accepted += 1
            engine.apply(line, receivedAt: now, now: now)
        } onError: { error in
            precondition(error.line >= 1 && error.column >= 1, "error position \(error.line):\(error.column)")
            rejected += 1
        }
        precondition(summary.accepted == accepted && summary.rejected == rejected, "summary disagrees with callbacks")
        precondition(summary.lines == accepted + rejected, "lines \(summary.lines) ≠ \(accepted) + \(rejected)")
        // A second parse of the same bytes says the same (no hidden state).
        let again = parser.parse(payload, firstLineNumber: 1) { _ in
        } onError: { _ in
        }
        precondition(again.accepted == accepted && again.rejected == rejected, "parse is not deterministic")
        // Reading values runs the sketches and windows over what was applied.
        for value in engine.takeChangedForAlerts(now: now) {
            if let v = value.value { precondition(!v.isNaN, "\(value.kpi) is NaN") }
        }
    }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzLineProtocol.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
