/// Reads big-endian integers and byte runs from a buffer, checking every length first.
///
/// A read past the end returns `nil` and leaves the position unchanged, so decoding arbitrary
/// bytes never traps: every decoder in BitDrizzle turns a `nil` into a typed error.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    /// The index of the next byte to read.
    public private(set) var position: Int
    private let end: Int

    /// Reads `bytes[range]`, or all of `bytes` when no range is given.
    public init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        let bounds = range ?? 0..<bytes.count
        position = max(0, min(bounds.lowerBound, bytes.count))
        end = max(position, min(bounds.upperBound, bytes.count))
    }

    /// How many bytes are left to read.
    public var remaining: Int { end - position }

    /// True when every byte has been read.
    public var isAtEnd: Bool { position == end }

    public mutating func readUInt8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readUInt16() -> UInt16? { readBigEndian(UInt16.self) }

    public mutating func readUInt32() -> UInt32? { readBigEndian(UInt32.self) }

    public mutating func readUInt64() -> UInt64? { readBigEndian(UInt64.self) }

    /// Unsigned LEB128 (see `ByteWriter.writeVarint`); nil when truncated, longer than 10 bytes,
    /// or beyond 64 bits.
    public mutating func readVarint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = readUInt8() {
            let bits = UInt64(byte & 0x7F)
            guard shift < 64, shift < 63 || bits <= 1 else { return nil }
            value |= bits << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    public mutating func readInt64() -> Int64? { readBigEndian(UInt64.self).map { Int64(bitPattern: $0) } }

    /// Reads exactly `count` bytes, or nothing when fewer are left or `count` is negative.
    public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// Skips exactly `count` bytes and returns the range skipped, or `nil` when fewer are left.
    public mutating func skip(_ count: Int) -> Range<Int>? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return position..<position + count
    }

    private mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = T.bitWidth / 8
        guard remaining >= size else { return nil }
        var value: T = 0
        for index in position..<position + size {
            value = value << 8 | T(bytes[index])
        }
        position += size
        return value
    }
}
