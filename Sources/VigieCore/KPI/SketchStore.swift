/// The counts of one sign of values in a `QuantileSketch`, by bin index.
///
/// Two representations:
/// - **sparse** while at most `sparseLimit` (32) distinct indices are held: sorted
///   `(index, count)` pairs, 16 bytes each. Most buckets of a sliding window see few
///   samples; this keeps them small whatever the spread of their values.
/// - **dense** beyond that: `bins[i]` counts index `offset + i`; only
///   `[minIndex, maxIndex]` holds non-zero counts, the array may cover more (slack, so
///   that growth is rare). When covering a new index would need more than `maxBins`
///   bins, the lowest indices are collapsed into the lowest kept one (DDSketch's
///   "collapsing lowest dense store"): counts stay exact, only the values of the
///   smallest magnitudes lose accuracy.
///
/// Allocation happens only when an array must grow (never beyond `maxBins` dense bins
/// or `sparseLimit` pairs). `clear()` returns to the sparse representation and keeps
/// both arrays' storage, so a reused store does not allocate per insert.
struct SketchStore: Sendable {
    /// One sparse entry.
    struct SparseBin: Sendable {
        var index: Int
        var count: UInt64
    }

    /// Most distinct indices held sparsely.
    static let sparseLimit = 32
    /// Dense bins allocated on first use.
    private static let initialBins = 64

    /// Whether the dense representation is in use.
    private(set) var isDense = false
    /// Sparse entries sorted by index (sparse representation).
    private(set) var sparse: [SparseBin] = []
    /// Dense counts; `bins[i]` is the count of index `offset + i`.
    private(set) var bins: [UInt64] = []
    /// The index counted by `bins[0]`.
    private(set) var offset: Int = 0
    /// Lowest occupied index; greater than `maxIndex` when the store is empty.
    private(set) var minIndex: Int = 1
    /// Highest occupied index.
    private(set) var maxIndex: Int = 0
    /// Sum of all counts.
    private(set) var total: UInt64 = 0
    /// Most dense bins this store ever holds.
    let maxBins: Int

    init(maxBins: Int) {
        self.maxBins = Swift.max(1, maxBins)
    }

    /// True when no count was added since creation or the last `clear()`.
    var isEmpty: Bool { maxIndex < minIndex }

    /// Bins holding data: sparse entries, or the span of the dense range.
    var occupiedBins: Int {
        if isEmpty { return 0 }
        return isDense ? maxIndex - minIndex + 1 : sparse.count
    }

    /// Bytes of storage allocated (both representations).
    var allocatedBytes: Int {
        bins.capacity * MemoryLayout<UInt64>.stride + sparse.capacity * MemoryLayout<SparseBin>.stride
    }

    /// Adds `count` at `index`: O(1) dense within the occupied range, O(log 32) plus a
    /// short move sparse, amortised O(1) otherwise.
    @inline(__always)
    mutating func add(index: Int, count: UInt64) {
        guard count > 0 else { return }
        if isDense {
            if index >= minIndex, index <= maxIndex {
                bins[index &- offset] &+= count
            } else {
                let target = include(index)
                bins[target &- offset] &+= count
            }
        } else {
            addSparse(index: index, count: count)
        }
        total &+= count
    }

    private mutating func addSparse(index: Int, count: UInt64) {
        var low = 0
        var high = sparse.count
        while low < high {
            let mid = (low + high) >> 1
            if sparse[mid].index < index { low = mid + 1 } else { high = mid }
        }
        if low < sparse.count, sparse[low].index == index {
            sparse[low].count &+= count
            return
        }
        if sparse.count < Self.sparseLimit {
            sparse.insert(SparseBin(index: index, count: count), at: low)
            if isEmpty {
                minIndex = index
                maxIndex = index
            } else {
                minIndex = Swift.min(minIndex, index)
                maxIndex = Swift.max(maxIndex, index)
            }
            return
        }
        convertToDense()
        let target = include(index)
        bins[target &- offset] &+= count
    }

    /// Moves the sparse entries into dense bins (allocates only if `bins` is too small).
    private mutating func convertToDense() {
        isDense = true
        minIndex = 1
        maxIndex = 0
        for i in 0..<sparse.count {
            let entry = sparse[i]
            let target = include(entry.index)
            bins[target &- offset] &+= entry.count
        }
        sparse.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with each non-zero `(index, count)` in ascending index order (or
    /// descending), until it returns `false`. O(occupied bins).
    func forEach(ascending: Bool, _ body: (Int, UInt64) -> Bool) {
        guard !isEmpty else { return }
        if isDense {
            if ascending {
                for i in minIndex...maxIndex {
                    let c = bins[i - offset]
                    if c != 0, !body(i, c) { return }
                }
            } else {
                for i in stride(from: maxIndex, through: minIndex, by: -1) {
                    let c = bins[i - offset]
                    if c != 0, !body(i, c) { return }
                }
            }
        } else if ascending {
            for entry in sparse where !body(entry.index, entry.count) { return }
        } else {
            for entry in sparse.reversed() where !body(entry.index, entry.count) { return }
        }
    }

    /// Adds every count of `other` (which must use the same index mapping).
    ///
    /// O(other's occupied bins).
    mutating func merge(_ other: SketchStore) {
        guard !other.isEmpty else { return }
        guard isDense, other.isDense else {
            other.forEach(ascending: true) { index, count in
                add(index: index, count: count)
                return true
            }
            return
        }
        _ = include(other.minIndex)
        _ = include(other.maxIndex)
        let low = minIndex
        for index in other.minIndex...other.maxIndex {
            let c = other.bins[index - other.offset]
            if c != 0 {
                bins[Swift.max(index, low) - offset] &+= c
            }
        }
        total &+= other.total
    }

    /// Empties the store, keeping its storage, and returns to the sparse
    /// representation. O(occupied bins).
    mutating func clear() {
        if isDense, !isEmpty {
            for index in minIndex...maxIndex {
                bins[index - offset] = 0
            }
        }
        sparse.removeAll(keepingCapacity: true)
        isDense = false
        minIndex = 1
        maxIndex = 0
        total = 0
    }

    /// Dense only: widens the occupied range to include `index`, collapsing the lowest
    /// indices beyond `maxBins`, and makes the array cover the range. Returns the index
    /// whose bin receives a count for `index` (`index` itself unless it was collapsed).
    private mutating func include(_ index: Int) -> Int {
        if isEmpty {
            minIndex = index
            maxIndex = index
            if bins.isEmpty {
                bins = [UInt64](repeating: 0, count: Swift.min(Self.initialBins, maxBins))
            }
            if index < offset || index >= offset + bins.count {
                // Every bin is zero: re-centre for free.
                offset = index - bins.count / 2
            }
            return index
        }
        var newMin = Swift.min(minIndex, index)
        let newMax = Swift.max(maxIndex, index)
        if newMax - newMin + 1 > maxBins {
            newMin = newMax - maxBins + 1
        }
        var collapsed: UInt64 = 0
        if newMin > minIndex {
            let highest = Swift.min(newMin - 1, maxIndex)
            for i in minIndex...highest {
                collapsed &+= bins[i - offset]
                bins[i - offset] = 0
            }
        }
        minIndex = newMin
        maxIndex = newMax
        cover()
        if collapsed != 0 {
            bins[newMin - offset] &+= collapsed
        }
        return Swift.max(index, newMin)
    }

    /// Makes `bins` cover `[minIndex, maxIndex]`, moving the existing counts (which
    /// all lie inside that range). Allocates only when the range outgrows the array.
    private mutating func cover() {
        if minIndex >= offset, maxIndex < offset + bins.count { return }
        let needed = maxIndex - minIndex + 1
        if needed <= bins.count {
            shift(to: minIndex - (bins.count - needed) / 2)
            return
        }
        let newCount = Swift.min(maxBins, Swift.max(needed + needed / 2, bins.count * 2))
        let newOffset = minIndex - (newCount - needed) / 2
        var newBins = [UInt64](repeating: 0, count: newCount)
        let from = Swift.max(offset, newOffset)
        let to = Swift.min(offset + bins.count, newOffset + newCount)
        if from < to {
            for absolute in from..<to {
                newBins[absolute - newOffset] = bins[absolute - offset]
            }
        }
        bins = newBins
        offset = newOffset
    }

    /// Moves the counts in place so that `bins[0]` counts `newOffset`.
    private mutating func shift(to newOffset: Int) {
        let delta = newOffset - offset
        let n = bins.count
        if delta > 0 {
            if delta < n {
                for p in delta..<n { bins[p - delta] = bins[p] }
            }
            for p in Swift.max(0, n - delta)..<n { bins[p] = 0 }
        } else if delta < 0 {
            let d = -delta
            if d < n {
                for p in stride(from: n - 1 - d, through: 0, by: -1) { bins[p + d] = bins[p] }
            }
            for p in 0..<Swift.min(d, n) { bins[p] = 0 }
        }
        offset = newOffset
    }
}

extension SketchStore {
    /// Number of indices with a non-zero count. O(occupied bins).
    var occupiedBinsWithCounts: Int {
        var n = 0
        forEach(ascending: true) { _, _ in
            n += 1
            return true
        }
        return n
    }
}
