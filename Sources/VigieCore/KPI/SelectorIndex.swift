/// Which side of a KPI a selector feeds.
enum SelectorRole: UInt8, Sendable {
    /// The KPI's values (every aggregate but `ratio`).
    case value
    /// A ratio's numerator.
    case numerator
    /// A ratio's denominator.
    case denominator
}

/// Finds the KPI selectors a parsed line may feed, without allocating or touching a
/// reference count.
///
/// Every selector (a KPI's, or each side of a ratio) is filed under its measurement:
/// an open-addressing table keyed by the measurement's FNV-1a hash (over unescaped
/// bytes, as `ByteView.fnv1a`) leads to the measurement's entry, confirmed by byte
/// equality, which lists its candidates. A candidate matches a line when the line has
/// its field (byte comparison with precomputed key bytes) and every `where` filter's
/// tag with the same value (linear scan of the line's few tags). All names are stored
/// once in a byte arena; entries, candidates and filters are plain values pointing
/// into it.
///
/// Built once per engine; read-only afterwards.
struct SelectorIndex: Sendable {
    /// A run of bytes in `bytes`.
    struct Span: Sendable {
        var start: Int32
        var count: Int32
    }

    /// One `where` condition.
    struct Filter: Sendable {
        let key: Span
        let value: Span
    }

    /// One selector filed under a measurement.
    struct Candidate: Sendable {
        /// Index of the KPI in the engine's list.
        let kpi: Int
        let role: SelectorRole
        /// Field key.
        let field: Span
        /// Its filters: `filters[filterStart ..< filterStart + filterCount]`.
        let filterStart: Int32
        let filterCount: Int32
    }

    /// A measurement and the selectors that name it.
    struct Entry: Sendable {
        let measurement: Span
        let hash: UInt64
        /// Its candidates: `candidates[candidateStart ..< candidateStart + candidateCount]`.
        let candidateStart: Int32
        let candidateCount: Int32
    }

    /// Every name, once.
    let bytes: [UInt8]
    /// Entry number per slot, −1 when empty. Power-of-two size, load ≤ ¼.
    private let slots: [Int32]
    /// One entry per distinct measurement.
    let entries: [Entry]
    /// Candidates, grouped by entry.
    let candidates: [Candidate]
    /// Filters, grouped by candidate.
    let filters: [Filter]

    /// Indexes the selectors of `kpis` (the denominator only for `ratio` KPIs).
    init(kpis: [KPIDefinition]) {
        var grouped: [(name: [UInt8], selectors: [(kpi: Int, role: SelectorRole, selector: SampleSelector)])] = []
        var byName: [[UInt8]: Int] = [:]
        func file(_ selector: SampleSelector, kpi: Int, role: SelectorRole) {
            let name = Array(selector.metric.utf8)
            if let e = byName[name] {
                grouped[e].selectors.append((kpi, role, selector))
            } else {
                byName[name] = grouped.count
                grouped.append((name, [(kpi, role, selector)]))
            }
        }
        for (k, kpi) in kpis.enumerated() {
            if kpi.aggregate == .ratio {
                file(kpi.selector, kpi: k, role: .numerator)
                if let denominator = kpi.denominator { file(denominator, kpi: k, role: .denominator) }
            } else {
                file(kpi.selector, kpi: k, role: .value)
            }
        }
        var bytes: [UInt8] = []
        func span(_ b: [UInt8]) -> Span {
            defer { bytes += b }
            return Span(start: Int32(truncatingIfNeeded: bytes.count), count: Int32(truncatingIfNeeded: b.count))
        }
        var entries: [Entry] = []
        var candidates: [Candidate] = []
        var filters: [Filter] = []
        for (name, selectors) in grouped {
            let firstCandidate = Int32(truncatingIfNeeded: candidates.count)
            for (kpi, role, selector) in selectors {
                let firstFilter = Int32(truncatingIfNeeded: filters.count)
                for f in selector.filters {
                    filters.append(Filter(key: span(Array(f.key.utf8)), value: span(Array(f.value.utf8))))
                }
                candidates.append(
                    Candidate(
                        kpi: kpi,
                        role: role,
                        field: span(Array(selector.field.utf8)),
                        filterStart: firstFilter,
                        filterCount: Int32(truncatingIfNeeded: selector.filters.count)
                    )
                )
            }
            entries.append(
                Entry(
                    measurement: span(name),
                    hash: fnv1a(name),
                    candidateStart: firstCandidate,
                    candidateCount: Int32(truncatingIfNeeded: selectors.count)
                )
            )
        }
        var size = 8
        while size < entries.count * 4 { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for (e, entry) in entries.enumerated() {
            var i = Int(truncatingIfNeeded: entry.hash) & (size - 1)
            while slots[i] >= 0 { i = (i + 1) & (size - 1) }
            slots[i] = Int32(truncatingIfNeeded: e)
        }
        self.bytes = bytes
        self.slots = slots
        self.entries = entries
        self.candidates = candidates
        self.filters = filters
    }

    /// The entry of `measurement`, or `nil` when no selector names it. O(1) expected.
    @inline(__always)
    func lookup(_ measurement: ByteView, bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let h = measurement.fnv1a()
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { return nil }
            if entries[e].hash == h, measurement.matches(Self.slice(bytes, entries[e].measurement)) { return e }
            i = (i + 1) & mask
        }
    }

    /// The bytes of `span` in the arena `bytes`.
    @inline(__always)
    static func slice(_ bytes: UnsafeBufferPointer<UInt8>, _ span: Span) -> UnsafeBufferPointer<UInt8> {
        let start = Int(span.start)
        return UnsafeBufferPointer(rebasing: bytes[start..<(start + Int(span.count))])
    }

    /// The value of `candidate`'s field in `line` when the line has the field and
    /// passes every filter; `nil` otherwise. `bytes` is the arena.
    @inline(__always)
    func match(_ candidate: Candidate, _ line: ParsedLine, bytes: UnsafeBufferPointer<UInt8>) -> FieldValue? {
        let fieldKey = Self.slice(bytes, candidate.field)
        var value: FieldValue?
        for field in line.fields where field.key.matches(fieldKey) {
            value = field.value
            break
        }
        guard let value else { return nil }
        let first = Int(candidate.filterStart)
        for f in first..<(first + Int(candidate.filterCount)) {
            let key = Self.slice(bytes, filters[f].key)
            let expected = Self.slice(bytes, filters[f].value)
            var passed = false
            for tag in line.tags where tag.key.matches(key) {
                passed = tag.value.matches(expected)
                break
            }
            if !passed { return nil }
        }
        return value
    }
}
