/// Byte-exact JSON bodies of feed messages and snapshot entries (DESIGN.md, "Feed").
public enum FeedEncoding {
    /// Topic of a KPI update: `kpi.<name>`.
    public static func kpiTopic(_ kpi: String) -> String { "kpi." + kpi }

    /// Topic of the heartbeat.
    public static let heartbeatTopic = "hb"

    /// Writes the members of a `kpi` object (without braces), shared by feed and snapshot.
    public static func writeKPIMembers(_ value: KPIValue, into w: inout JSONWriter) {
        w.key("type")
        w.string("kpi")
        w.key("kpi")
        w.string(value.kpi)
        w.key("title")
        w.string(value.title)
        w.key("group")
        w.beginObject()
        for pair in value.group {
            w.key(pair.key)
            w.string(pair.value)
        }
        w.endObject()
        w.key("value")
        w.number(value.value)
        w.key("unit")
        if let unit = value.unit { w.string(unit) } else { w.null() }
        w.key("window")
        w.string(value.window)
        w.key("aggregate")
        w.string(value.aggregate)
        w.key("samples")
        w.integer(value.samples)
        w.key("target")
        w.number(value.target)
        w.key("direction")
        w.string(value.direction.rawValue)
        w.key("status")
        w.string(value.status.rawValue)
        w.key("last_sample")
        if let last = value.lastSampleAt { w.timestamp(nanoseconds: last) } else { w.null() }
        w.key("ts")
        w.timestamp(nanoseconds: value.ts)
    }

    /// A full `kpi.<name>` feed body.
    public static func encodeKPI(_ value: KPIValue, seq: UInt64, epoch: String, into w: inout JSONWriter) {
        w.reset()
        w.beginObject()
        writeKPIMembers(value, into: &w)
        w.key("seq")
        w.integer(seq)
        w.key("epoch")
        w.string(epoch)
        w.endObject()
    }

    /// The `hb` body.
    public static func encodeHeartbeat(
        now: Int64,
        uptimeSeconds: Double,
        ingestRate: Double,
        seq: UInt64,
        epoch: String,
        into w: inout JSONWriter
    ) {
        w.reset()
        w.beginObject()
        w.key("type")
        w.string("hb")
        w.key("ts")
        w.timestamp(nanoseconds: now)
        w.key("uptime_s")
        w.number((uptimeSeconds * 1000).rounded() / 1000)
        w.key("ingest_rate")
        w.number((ingestRate * 10).rounded() / 10)
        w.key("seq")
        w.integer(seq)
        w.key("epoch")
        w.string(epoch)
        w.endObject()
    }
}
