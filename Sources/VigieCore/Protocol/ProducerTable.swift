/// The producers of acknowledged ingest: for each producer id, its anti-replay window,
/// when its last batch came, and how many of its ACKs wait for the log.
///
/// ``admit(producer:sequence:now:)`` is the whole admission decision for one `PUSH`
/// (refuse, duplicate or apply), pure and table-tested; the ingest server carries it
/// out. Producer ids of CURVE peers are scoped: `name 0x1F id` (DESIGN.md), which is
/// what the per-key limit counts. Slots are the indices of the underlying
/// ``ByteKeyTable``: an eviction renumbers them, and says how (``Eviction``).
public struct ProducerTable {
    /// The `[ingest]` limits admission enforces.
    public struct Limits: Sendable, Equatable {
        /// Most producers kept (`max_producers`).
        public var maxProducers: Int
        /// Most producers of one CURVE key (`max_producers_per_key`).
        public var maxPerKey: Int
        /// Most ACKs of one producer waiting for the log (`max_in_flight`).
        public var maxInFlight: Int
        /// A producer silent this long is forgotten (`producer_idle`), ns.
        public var idle: Int64
        /// A producer heard from within this long is never forgotten to make room, ns.
        public var evictionFloor: Int64

        public init(maxProducers: Int, maxPerKey: Int, maxInFlight: Int, idle: Int64, evictionFloor: Int64) {
            self.maxProducers = maxProducers
            self.maxPerKey = maxPerKey
            self.maxInFlight = maxInFlight
            self.idle = idle
            self.evictionFloor = evictionFloor
        }
    }

    /// Why a batch is not admitted (the ERR text is ``message``).
    public enum Refusal: Equatable, Sendable {
        case sequenceTooOld
        case tooManyInFlight(limit: Int)
        case tooManyProducers(limit: Int, evictionFloor: Int64)
        case tooManyForKey(name: String, limit: Int)

        public var message: String {
            switch self {
            case .sequenceTooOld:
                return "sequence too old"
            case .tooManyInFlight(let limit):
                return "too many batches in flight (limit \(limit)): wait for ACKs, then resend"
            case .tooManyProducers(let limit, let floor):
                return "too many producers (limit \(limit), each heard from in the last "
                    + "\(DurationFormat.format(nanoseconds: floor))); retry later, or reuse a stable producer id"
            case .tooManyForKey(let name, let limit):
                return "too many producers for key \(JSONText.quoted(name)) (limit \(limit)); "
                    + "reuse a stable producer id"
            }
        }
    }

    /// What to do with one `PUSH`.
    public enum Admission: Equatable, Sendable {
        /// A new batch: log it, apply it, then ``markApplied(slot:sequence:now:)``.
        case apply(slot: Int)
        /// Applied before: acknowledge it again as a duplicate, apply nothing.
        case duplicate(slot: Int)
        case refuse(Refusal)
    }

    /// Producers forgotten by one eviction, and where the others moved.
    public struct Eviction: Equatable, Sendable {
        /// For each old slot, its new one (nil: forgotten).
        public var mapping: [Int?]

        public init(mapping: [Int?]) {
            self.mapping = mapping
        }

        public var count: Int { mapping.count(where: { $0 == nil }) }
    }

    /// The separator between a CURVE key's name and the producer id it sent.
    public static let scopeSeparator: UInt8 = 0x1F

    public var limits: Limits
    public private(set) var windows = ByteKeyTable<AntiReplayWindow>(capacity: 256)
    /// Time of each slot's last batch, ns (0: none since ``restoredAt``).
    public private(set) var lastSeen: [Int64] = []
    /// ACKs held for each slot until the log is durable.
    public private(set) var inFlight: [Int32] = []
    /// When the table was restored (start, reload): idle time of producers without a
    /// batch since counts from here.
    public private(set) var restoredAt: Int64
    /// The last eviction (by ``admit(producer:sequence:now:)`` or ``evictIdle(now:)``),
    /// until the caller takes it with ``takeEviction()``.
    public private(set) var eviction: Eviction?

    public init(limits: Limits, now: Int64) {
        self.limits = limits
        self.restoredAt = now
    }

    /// The table written by ``encodeState(into:)``, restored at `now`.
    public init(limits: Limits, restoringStateFrom reader: inout BinaryReader, now: Int64) throws {
        self.limits = limits
        self.windows = try ByteKeyTable<AntiReplayWindow>(restoringStateFrom: &reader)
        self.restoredAt = now
    }

    public func encodeState(into writer: inout BinaryWriter) {
        windows.encodeState(into: &writer)
    }

    public var count: Int { windows.count }

    /// The highest sequence applied for `producer` (0: none), for `WELCOME`.
    public func highest(of producer: UnsafeRawBufferPointer) -> UInt64 {
        windows.index(of: producer).map { windows[$0].highest } ?? 0
    }

    /// Decides what to do with batch `sequence` of `producer` (a scoped id for a CURVE
    /// peer) received at `now`. A new producer is given a slot, making room by forgetting
    /// idle ones when the table (or its key's share) is full; see ``eviction``.
    public mutating func admit(producer: UnsafeRawBufferPointer, sequence: UInt64, now: Int64) -> Admission {
        var found = windows.index(of: producer)
        if found == nil {
            if let separator = producer.firstIndex(of: Self.scopeSeparator) {
                let name = UnsafeRawBufferPointer(rebasing: producer[...separator])
                func isOfKey(_ slot: Int) -> Bool { windows.key(at: slot).withUnsafeBytes { $0.starts(with: name) } }
                let ofKey = (0..<windows.count).map(isOfKey)
                var keyCount = ofKey.count(where: { $0 })
                if keyCount >= limits.maxPerKey {
                    evict(now: now, makeRoom: true, among: { ofKey[$0] })
                    // Counted again only when something may have been forgotten.
                    keyCount = (0..<windows.count).count(where: isOfKey)
                }
                guard keyCount < limits.maxPerKey else {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: producer[..<separator]), as: UTF8.self)
                    return .refuse(.tooManyForKey(name: text, limit: limits.maxPerKey))
                }
            }
            if windows.count >= limits.maxProducers { evict(now: now, makeRoom: true, among: nil) }
            guard windows.count < limits.maxProducers else {
                return .refuse(.tooManyProducers(limit: limits.maxProducers, evictionFloor: limits.evictionFloor))
            }
            found = windows.insert(producer, value: AntiReplayWindow())
        }
        guard let slot = found else { return .refuse(.sequenceTooOld) }
        while inFlight.count <= slot { inFlight.append(0) }
        guard inFlight[slot] < limits.maxInFlight else {
            return .refuse(.tooManyInFlight(limit: limits.maxInFlight))
        }
        switch windows[slot].verdict(for: sequence) {
        case .tooOld: return .refuse(.sequenceTooOld)
        case .duplicate: return .duplicate(slot: slot)
        case .fresh: return .apply(slot: slot)
        }
    }

    /// Batch `sequence` of `slot` was logged and applied at `now`.
    public mutating func markApplied(slot: Int, sequence: UInt64, now: Int64) {
        windows[slot].markApplied(sequence)
        while lastSeen.count <= slot { lastSeen.append(0) }
        lastSeen[slot] = now
    }

    /// A logged batch, replayed at recovery: applied whatever the window says (duplicates
    /// are never logged; after an eviction the same id and sequence may come back as a
    /// new batch). Ids too long to keep get no window.
    public mutating func replayApplied(producer: UnsafeRawBufferPointer, sequence: UInt64) {
        guard ByteKeyTable<AntiReplayWindow>.canKeep(producer) else { return }
        let slot = windows.index(of: producer) ?? windows.insert(producer, value: AntiReplayWindow())
        windows[slot].markApplied(sequence)
    }

    /// An ACK of `slot` is held until the log is durable.
    public mutating func hold(slot: Int) {
        while inFlight.count <= slot { inFlight.append(0) }
        inFlight[slot] += 1
    }

    /// A held ACK of `slot` went out (or was dropped).
    public mutating func release(slot: Int) {
        guard slot >= 0, slot < inFlight.count, inFlight[slot] > 0 else { return }
        inFlight[slot] -= 1
    }

    /// Forgets the producers with nothing in flight that were idle `limits.idle`.
    public mutating func evictIdle(now: Int64) {
        evict(now: now, makeRoom: false, among: nil)
    }

    /// Returns and clears ``eviction``.
    public mutating func takeEviction() -> Eviction? {
        defer { eviction = nil }
        return eviction
    }

    /// Up to `limit` producers, most recently seen first: id, last batch, highest sequence.
    public func recent(limit: Int) -> [(id: [UInt8], lastSeen: Int64, sequence: UInt64)] {
        (0..<windows.count).filter { $0 < lastSeen.count && lastSeen[$0] > 0 }
            .sorted { lastSeen[$0] > lastSeen[$1] }
            .prefix(limit)
            .map { (windows.key(at: $0), lastSeen[$0], windows[$0].highest) }
    }

    /// Forgets producers with nothing in flight that were idle `limits.idle`; with
    /// `makeRoom` and none such, the least recently seen of those idle at least
    /// `limits.evictionFloor` (a 64th of the table at most, one at least). With `among`,
    /// only the slots it picks are considered (one CURVE key's).
    private mutating func evict(now: Int64, makeRoom: Bool, among: ((Int) -> Bool)?) {
        let count = windows.count
        guard count > 0 else { return }
        let lastSeen = self.lastSeen
        let inFlight = self.inFlight
        let restoredAt = self.restoredAt
        func idle(_ slot: Int) -> Int64 {
            let seen = slot < lastSeen.count && lastSeen[slot] > 0 ? lastSeen[slot] : restoredAt
            return now &- seen
        }
        func busy(_ slot: Int) -> Bool {
            (slot < inFlight.count && inFlight[slot] > 0) || !(among?(slot) ?? true)
        }
        var evict = [Bool](repeating: false, count: count)
        var any = false
        for slot in 0..<count where !busy(slot) && idle(slot) >= limits.idle {
            evict[slot] = true
            any = true
        }
        if !any && makeRoom {
            let oldest = (0..<count).filter { !busy($0) && idle($0) >= limits.evictionFloor }
                .sorted { idle($0) > idle($1) }
                .prefix(max(1, count / 64))
            for slot in oldest {
                evict[slot] = true
                any = true
            }
        }
        guard any else { return }
        let mapping = windows.remove { evict[$0] }
        var seen: [Int64] = []
        var held: [Int32] = []
        seen.reserveCapacity(windows.count)
        held.reserveCapacity(windows.count)
        for (old, new) in mapping.enumerated() where new != nil {
            seen.append(old < lastSeen.count ? lastSeen[old] : 0)
            held.append(old < inFlight.count ? inFlight[old] : 0)
        }
        self.lastSeen = seen
        self.inFlight = held
        if let earlier = eviction {
            // Compose with an eviction the caller has not taken yet.
            eviction = Eviction(mapping: earlier.mapping.map { $0.flatMap { mapping[$0] } })
        } else {
            eviction = Eviction(mapping: mapping)
        }
    }
}
