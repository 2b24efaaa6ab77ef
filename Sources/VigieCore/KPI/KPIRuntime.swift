import Foundation

/// How one KPI reads its window group: its definition, the group it shares, and the
/// labels its published values carry (computed once).
///
/// All mutable state is the group's (`WindowGroup`); this side is read-only and used
/// for snapshots and publishing, never per sample. Owned by the engine thread.
struct KPIRuntime {
    let definition: KPIDefinition
    /// Index of the KPI's window group in the engine.
    let group: Int
    let needsSketch: Bool
    let minSamples: Int
    let windowLabel: String
    let aggregateName: String

    init(definition: KPIDefinition, group: Int) {
        self.definition = definition
        self.group = group
        needsSketch = definition.aggregate.needsSketch
        minSamples = Swift.max(0, definition.minSamples)
        windowLabel = definition.window.label
        aggregateName = definition.aggregate.name
    }

    /// The KPI's value for series `s` of `group` (whose tag values are `names`) at
    /// `now`. Uses `scratch` to merge bucket sketches (cleared first; keeps its bins).
    /// O(buckets + bins).
    func value(
        series s: Int,
        of group: WindowGroup,
        names: [TagPair],
        now: Int64,
        scratch: inout QuantileSketch
    ) -> KPIValue {
        var total = AggregateAccumulator()
        let computed: Double?
        switch group.kind {
        case .sliding:
            let geometry = group.sliding.geometry
            if needsSketch { scratch.clear() }
            group.sliding.read(
                series: s,
                nowEpoch: geometry.epoch(of: now),
                into: &total,
                sketch: &scratch,
                mergeSketches: needsSketch
            )
            computed = total.value(
                of: definition.aggregate,
                sketch: needsSketch ? scratch : nil,
                rateSeconds: Double(geometry.window) / 1e9
            )
        case .calendar:
            total = group.calendar.totals[s]
            let elapsed = Swift.max(1_000_000_000, now - group.calendar.period.start)
            computed = total.value(
                of: definition.aggregate,
                sketch: needsSketch && group.calendar.withSketches ? group.calendar.sketches[s] : nil,
                rateSeconds: Double(elapsed) / 1e9
            )
        }
        let value = total.count >= minSamples ? computed : nil
        let last = group.lastSampleAt[s]
        return KPIValue(
            kpi: definition.name,
            title: definition.title,
            group: names,
            value: value,
            unit: definition.unit,
            window: windowLabel,
            samples: total.count,
            target: definition.target,
            status: KPIStatus.of(value: value, target: definition.target, direction: definition.direction),
            direction: definition.direction,
            aggregate: aggregateName,
            ts: now,
            lastSampleAt: last == .min ? nil : last
        )
    }
}
