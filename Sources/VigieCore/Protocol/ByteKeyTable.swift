/// An open-addressing hash table keyed by byte strings, looked up without allocating.
///
/// Lookups take an `UnsafeRawBufferPointer` (a frame read in place); a key is copied
/// into the table only when inserted. Used for producer state, where a `Dictionary`
/// keyed by `[UInt8]` would allocate a key per batch. Single-threaded.
public struct ByteKeyTable<Value> {
    private var slots: [Int32]  // index into entries, -1 empty
    private var hashes: [UInt64]
    private var keys: [[UInt8]] = []
    /// Values in insertion order.
    public private(set) var values: [Value] = []

    /// An empty table sized for about `capacity` keys (it grows as needed).
    public init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        hashes = Array(repeating: 0, count: size)
    }

    /// Number of keys.
    public var count: Int { values.count }

    /// All keys, in insertion order (copies).
    public var allKeys: [[UInt8]] { keys }

    /// The index of `key`, or `nil`.
    public func index(of key: UnsafeRawBufferPointer) -> Int? {
        let h = Self.hash(key)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s < 0 { return nil }
            if hashes[i] == h, Self.equal(keys[Int(s)], key) { return Int(s) }
            i = (i + 1) & mask
        }
    }

    /// The value at `index` (from `index(of:)` or `insert`).
    public subscript(index: Int) -> Value {
        get { values[index] }
        set { values[index] = newValue }
    }

    /// Inserts `key` (which must be absent) with `value`; returns its index.
    @discardableResult
    public mutating func insert(_ key: UnsafeRawBufferPointer, value: Value) -> Int {
        if (values.count + 1) * 2 > slots.count { grow() }
        let index = values.count
        keys.append(Array(key.bindMemory(to: UInt8.self)))
        values.append(value)
        place(index: index, hash: Self.hash(key))
        return index
    }

    /// Removes the entries at the indices `isRemoved` picks and compacts the rest, in
    /// order. Returns, for each old index, its new one (nil: removed), so that arrays
    /// kept beside the table by index can follow. O(count); allocates.
    public mutating func remove(where isRemoved: (Int) -> Bool) -> [Int?] {
        var mapping: [Int?] = []
        mapping.reserveCapacity(values.count)
        var keptKeys: [[UInt8]] = []
        var keptValues: [Value] = []
        keptKeys.reserveCapacity(values.count)
        keptValues.reserveCapacity(values.count)
        for index in values.indices {
            if isRemoved(index) {
                mapping.append(nil)
            } else {
                mapping.append(keptValues.count)
                keptKeys.append(keys[index])
                keptValues.append(values[index])
            }
        }
        guard keptValues.count < values.count else { return mapping }
        keys = keptKeys
        values = keptValues
        for i in slots.indices { slots[i] = -1 }
        for (index, key) in keys.enumerated() {
            place(index: index, hash: key.withUnsafeBytes { Self.hash($0) })
        }
        return mapping
    }

    /// The key at `index`.
    public func key(at index: Int) -> [UInt8] { keys[index] }

    private mutating func place(index: Int, hash: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(index)
        hashes[i] = hash
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        hashes = Array(repeating: 0, count: size)
        for (index, key) in keys.enumerated() {
            let h = key.withUnsafeBytes { Self.hash($0) }
            place(index: index, hash: h)
        }
    }

    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    @inline(__always)
    static func equal(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { $0.elementsEqual(b) }
    }
}
