import Foundation
import VigieCore
import VigieStore

/// libFuzzer target: control requests as the daemon decodes them. The input is the
/// request's bytes (a JSON object, or anything else), decoded by ``ControlRequest`` as
/// the engine thread decodes it (operator ops are what is logged before they are
/// carried out), then answered by ``HistoryQueryService`` over a real SQLite history
/// holding a few rollups, and every string value through the duration and time parsers. Nothing
/// may trap (the daemon must never stop on a request), and what is accepted must be
/// within its documented bounds.
enum FuzzControl {
    static let now: Int64 = 1_796_000_000_000_000_000
    static let kpis = [
        KPIDefinition(
            name: "attente",
            selector: SampleSelector(metric: "guichet_attente"),
            groupBy: ["site"],
            aggregate: .quantile(0.9),
            window: .sliding(nanoseconds: 3_600_000_000_000),
            unit: "min"
        ),
        KPIDefinition(
            name: "appels",
            selector: SampleSelector(metric: "appels", field: "decroche"),
            denominator: SampleSelector(metric: "appels", field: "recu"),
            aggregate: .ratio,
            window: .sliding(nanoseconds: 3_600_000_000_000)
        ),
    ]

    /// The history answered from: a fresh file with one day of minute rollups.
    nonisolated(unsafe) static let service: HistoryQueryService? = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-fuzz-\(getpid()).sqlite").path
        try? FileManager.default.removeItem(atPath: path)
        guard let store = try? HistoryStore(path: path) else { return nil }
        var accumulator = RollupAccumulator(kpis: kpis)
        let lines = (0..<1_440).map { minute in
            "guichet_attente,site=\(["nord", "sud"][minute % 2]) value=\(minute % 40) \(now - Int64(minute) * 60_000_000_000)\n"
                + "appels recu=2i,decroche=1i \(now - Int64(minute) * 60_000_000_000)\n"
        }.joined()
        let parser = LineProtocolParser()
        Array(lines.utf8).withUnsafeBytes { payload in
            parser.parse(payload) {
                _ = accumulator.add($0, receivedAt: now)
            } onError: { _ in
            }
        }
        guard (try? store.write(rollups: accumulator.drain(), events: [], position: nil)) != nil else { return nil }
        return HistoryQueryService(store: store, kpis: kpis, clock: FixedClock(instant: now))
    }()

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed])) else {
            return
        }
        visitStrings(object)
        // As the engine thread decodes it; then what the history thread answers.
        let bytes = Array(input)
        let decoded = ControlRequest.decode(bytes, now: now)
        switch decoded {
        case .success(.operatorAction(.silence(_, let duration, let by, let comment))):
            precondition(duration > 0 && duration <= DurationFormat.maximum, "silence of \(duration) ns accepted")
            precondition(!now.addingReportingOverflow(duration).overflow, "silence ends past Int64")
            precondition(by.utf8.count <= OperatorRequest.maxText && comment.utf8.count <= OperatorRequest.maxText)
        case .success(.events(let query)):
            precondition(query.limit >= 1 && query.limit <= ControlRequest.maxEvents, "limit \(query.limit) accepted")
        case .success(.history(let query)):
            if let step = query.step { precondition(step > 0 && step <= DurationFormat.maximum, "step \(step)") }
        case .success, .failure:
            break
        }
        if let service, case .success(let request) = decoded {
            let reply = service.answer(request)
            precondition(reply.first == UInt8(ascii: "{"), "history reply is not a JSON object")
        }
    }

    /// Every string in `value`, through the parsers of durations and times.
    static func visitStrings(_ value: Any) {
        switch value {
        case let text as String:
            if let d = DurationFormat.parse(text) {
                precondition(d >= 0 && d <= DurationFormat.maximum, "duration \(d) accepted from \(text)")
            }
            _ = DurationFormat.explain(text)
            _ = TimeArgument.parse(text, now: now)
        case let list as [Any]:
            for item in list.prefix(64) { visitStrings(item) }
        case let object as [String: Any]:
            for (key, item) in object.prefix(64) {
                visitStrings(key)
                visitStrings(item)
            }
        default:
            break
        }
    }
}

/// A clock stopped at one instant.
struct FixedClock: WallClock {
    let instant: Int64
    func now() -> Int64 { instant }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzControl.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
