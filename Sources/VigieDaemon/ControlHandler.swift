import Foundation
import VigieConfig
import VigieCore
import ZeroMQ

/// Serves the control socket: one JSON request frame in, one JSON reply frame out.
///
/// Runs on the engine thread, so a `snapshot` is consistent with the feed `seq` it
/// reports (Clone pattern). Requests are small and rare; this path may allocate.
final class ControlHandler {
    private unowned let loop: EngineLoop
    private var writer = JSONWriter(capacity: 16_384)

    /// Operations this version serves.
    static let operations = ["snapshot", "stats", "config"]
    /// Operations of the protocol that later versions serve.
    static let plannedOperations = ["alerts", "ack", "silence", "unsilence", "history", "reload"]

    init(loop: EngineLoop) {
        self.loop = loop
    }

    func handle(socket: Socket, frames: [Message], frameCount: Int) {
        let n = abs(frameCount)
        guard n >= 2 else { return }  // a routing id alone: nothing to answer
        let bodyIndex = n - 1
        let envelope = 0..<bodyIndex
        loop.statistics.controlRequests += 1
        respond(to: frames[bodyIndex])
        do {
            for f in envelope {
                let sent = try frames[f].withUnsafeBytes { try socket.send($0, more: true, dontWait: true) }
                if !sent { return }
            }
            try writer.bytes.withUnsafeBytes { _ = try socket.send($0, more: false, dontWait: true) }
        } catch {
            loop.statistics.repliesDropped += 1
        }
    }

    private func respond(to request: Message) {
        writer.reset()
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(request.bytes)) as? [String: Any] else {
                return fail("request must be a JSON object like {\"op\":\"snapshot\"}")
            }
            object = parsed
        } catch {
            return fail("request is not valid JSON: send one object like {\"op\":\"snapshot\"}")
        }
        guard let op = object["op"] as? String else {
            return fail("missing \"op\": one of \(Self.operations.joined(separator: ", "))")
        }
        switch op {
        case "snapshot": snapshot(prefix: object["prefix"] as? String)
        case "stats": stats()
        case "config": config()
        default:
            if Self.plannedOperations.contains(op) {
                fail("op \"\(op)\" is not available in this version of vigied")
            } else {
                fail("unknown op \"\(op)\": expected one of \(Self.operations.joined(separator: ", "))")
            }
        }
    }

    private func fail(_ message: String) {
        loop.statistics.controlErrors += 1
        writer.reset()
        writer.beginObject()
        writer.key("ok")
        writer.bool(false)
        writer.key("error")
        writer.string(message)
        writer.endObject()
    }

    private func snapshot(prefix: String?) {
        let now = loop.now()
        loop.engine.advance(to: now)
        let values = loop.engine.snapshot(now: now)
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("seq")
        writer.integer(loop.feedSequence)
        writer.key("epoch")
        writer.string(loop.epoch)
        writer.key("ts")
        writer.string(Timestamps.rfc3339(nanoseconds: now))
        writer.key("kpis")
        writer.beginArray()
        for value in values where prefix.map({ value.kpi.hasPrefix($0) }) ?? true {
            writer.beginObject()
            FeedEncoding.writeKPIMembers(value, into: &writer)
            writer.endObject()
        }
        writer.endArray()
        writer.key("alerts")
        writer.beginArray()
        writer.endArray()
        writer.endObject()
    }

    private func stats() {
        let s = loop.statistics
        let counters = loop.engine.counters
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("epoch")
        writer.string(loop.epoch)
        writer.key("uptime_s")
        writer.number((loop.uptimeSeconds * 1000).rounded() / 1000)
        writer.key("ingest_rate")
        writer.number((loop.ingestRate * 10).rounded() / 10)
        let fields: [(String, UInt64)] = [
            ("samples_accepted", s.samplesAccepted),
            ("samples_rejected", s.samplesRejected),
            ("samples_late", UInt64(counters.late)),
            ("batches_acked", s.batchesAcked),
            ("batches_duplicate", s.batchesDuplicate),
            ("frames_invalid", s.framesInvalid),
            ("push_messages", s.pushMessages),
            ("replies_dropped", s.repliesDropped),
            ("feed_messages", s.feedMessages),
            ("feed_seq", loop.feedSequence),
            ("control_requests", s.controlRequests),
            ("control_errors", s.controlErrors),
            ("series_overflow", UInt64(counters.seriesOverflow)),
            ("series", UInt64(counters.series)),
            ("kpis", UInt64(loop.engine.kpis.count)),
        ]
        for (name, value) in fields {
            writer.key(name)
            writer.integer(value)
        }
        writer.endObject()
    }

    private func config() {
        let c = loop.configurationForControl
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("path")
        if let path = c.sourcePath { writer.string(path) } else { writer.null() }
        writer.key("timezone")
        writer.string(c.daemon.timezone)
        writer.key("publish_interval")
        writer.string(DurationFormat.format(nanoseconds: c.daemon.publishInterval))
        writer.key("endpoints")
        writer.beginObject()
        for (name, list) in [
            ("ingest", loop.bound.ingest), ("push", loop.bound.push), ("feed", loop.bound.feed),
            ("control", loop.bound.control),
        ] {
            writer.key(name)
            writer.beginArray()
            for e in list { writer.string(e) }
            writer.endArray()
        }
        writer.endObject()
        writer.key("kpis")
        writer.beginArray()
        for kpi in c.kpis {
            writer.beginObject()
            writer.key("name")
            writer.string(kpi.name)
            writer.key("title")
            writer.string(kpi.title)
            writer.key("metric")
            writer.string(kpi.selector.metric)
            writer.key("aggregate")
            writer.string(kpi.aggregate.name)
            writer.key("window")
            writer.string(kpi.window.label)
            writer.key("group_by")
            writer.beginArray()
            for tag in kpi.groupBy { writer.string(tag) }
            writer.endArray()
            writer.key("unit")
            if let unit = kpi.unit { writer.string(unit) } else { writer.null() }
            writer.key("target")
            writer.number(kpi.target)
            writer.key("direction")
            writer.string(kpi.direction.rawValue)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}
