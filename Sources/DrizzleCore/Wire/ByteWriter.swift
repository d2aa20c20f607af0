/// Appends big-endian integers and raw bytes to a growing buffer.
///
/// Every wire structure of BitDrizzle is written through this type, so all of them share one
/// byte order (network order, big-endian) and one notion of length prefixes.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer that reserves `capacity` bytes up front.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Hands over the bytes written, without copying them.
    public consuming func finish() -> [UInt8] { bytes }

    /// The number of bytes written so far.
    public var count: Int { bytes.count }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) { append(bigEndian: value) }

    public mutating func write(_ value: UInt32) { append(bigEndian: value) }

    public mutating func write(_ value: UInt64) { append(bigEndian: value) }

    public mutating func write(_ value: Int64) { append(bigEndian: UInt64(bitPattern: value)) }

    public mutating func write<Bytes: Sequence<UInt8>>(bytes more: Bytes) { bytes.append(contentsOf: more) }

    /// Unsigned LEB128: seven bits per byte, low bits first, the high bit set on every byte but
    /// the last (1 byte below 128, at most 10 for a `UInt64`).
    public mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private mutating func append<T: FixedWidthInteger>(bigEndian value: T) {
        var shift = T.bitWidth - 8
        while shift >= 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }
}
