/// Little-endian integers in byte arrays, for harnesses that lay out or repair file
/// formats.
extension Array where Element == UInt8 {
    /// The little-endian integer at `offset`; nil when it does not fit.
    public func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - size else { return nil }
        var value: T = 0
        for i in 0..<size { value |= T(truncatingIfNeeded: self[offset + i]) << (8 * i) }
        return value
    }

    /// Stores `value` little-endian at `offset`, if it fits.
    public mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - size else { return }
        for i in 0..<size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    /// Appends `value` little-endian.
    public mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
        for i in 0..<MemoryLayout<T>.size { append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }
}
