/// A growable array whose storage its owner allocates and frees explicitly: the engine's
/// hot per-series and per-bucket state lives in these.
///
/// No reference count and no copy-on-write: reading or writing an element is a pointer
/// access, so the hot path makes no uniqueness check (`swift_isUniquelyReferenced`) and
/// no retain. The price is manual ownership: a copy of the struct shares the storage
/// like a pointer does, so exactly one owner may grow it, and that owner must call
/// `deallocate()` exactly once (the engine does, in `KPIEngine.deinit`). Elements are
/// set through `nonmutating` accessors: `array[i].count += 1` works on a `let` copy.
///
/// Indices are checked by `assert` only (debug builds): callers index with series and
/// slot numbers they computed themselves, never with input. Owned by the engine thread.
struct UnmanagedArray<Element> {
    /// Start of the storage (`capacity` elements, the first `count` initialized).
    private(set) var base: UnsafeMutablePointer<Element>
    /// Initialized elements.
    private(set) var count: Int
    /// Allocated elements (at least 1, so `base` is always a real allocation).
    private(set) var capacity: Int

    /// An empty array with room for `capacity` elements (allocates).
    init(capacity: Int = 0) {
        let n = Swift.max(1, capacity)
        base = .allocate(capacity: n)
        count = 0
        self.capacity = n
    }

    /// `count` copies of `value` (allocates).
    init(repeating value: Element, count: Int) {
        let n = Swift.max(0, count)
        self.init(capacity: n)
        base.initialize(repeating: value, count: n)
        self.count = n
    }

    /// Element `i` (`0 ≤ i < count`, unchecked in release builds).
    @inline(__always)
    subscript(i: Int) -> Element {
        unsafeAddress {
            assert(i >= 0 && i < count, "UnmanagedArray index out of range")
            return UnsafePointer(base + i)
        }
        nonmutating unsafeMutableAddress {
            assert(i >= 0 && i < count, "UnmanagedArray index out of range")
            return base + i
        }
    }

    /// Appends `value`, doubling the storage when full (allocates then only).
    @inline(__always)
    mutating func append(_ value: Element) {
        if count == capacity { reserve(capacity * 2) }
        (base + count).initialize(to: value)
        count += 1
    }

    /// Makes room for at least `minimumCapacity` elements, moving the existing ones.
    mutating func reserve(_ minimumCapacity: Int) {
        guard minimumCapacity > capacity else { return }
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: minimumCapacity)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = minimumCapacity
    }

    /// Removes the last `k` elements, keeping the storage.
    mutating func removeLast(_ k: Int) {
        let n = Swift.min(Swift.max(0, k), count)
        (base + count - n).deinitialize(count: n)
        count -= n
    }

    /// Removes the elements in `range`, moving the ones after it down (one move, no
    /// allocation); keeps the storage.
    mutating func removeSubrange(_ range: Range<Int>) {
        let lower = Swift.max(0, range.lowerBound)
        let upper = Swift.min(count, range.upperBound)
        guard lower < upper else { return }
        (base + lower).deinitialize(count: upper - lower)
        (base + lower).moveInitialize(from: base + upper, count: count - upper)
        count -= upper - lower
    }

    /// Removes every element, keeping the storage.
    mutating func removeAll() {
        removeLast(count)
    }

    /// Destroys the elements and frees the storage. Call exactly once, from the owner;
    /// no copy may be used afterwards.
    func deallocate() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}
