/// One instance's value in a push-pull exchange: whose average (the initiator) and the value.
public struct InstanceValue: Hashable, Sendable {
    public var instance: NodeID
    public var value: Double

    public init(instance: NodeID, value: Double) {
        self.instance = instance
        self.value = value
    }
}

/// One instance's push-sum state or share: sum and weight (sum / weight estimates the size).
public struct InstanceShare: Hashable, Sendable {
    public var instance: NodeID
    public var sum: Double
    public var weight: Double

    public init(instance: NodeID, sum: Double, weight: Double) {
        self.instance = instance
        self.sum = sum
        self.weight = weight
    }
}

/// A size figure a node passes on so a node without an epoch result of its own can show one.
public struct SizeHint: Hashable, Sendable {
    public var size: Double
    public var epoch: UInt64

    public init(size: Double, epoch: UInt64) {
        self.size = size
        self.epoch = epoch
    }
}

/// What every size message starts with.
public struct SizeHeader: Hashable, Sendable {
    /// The sender's epoch; 0 when it knows none yet (a node that just started).
    public var epoch: UInt64
    /// Cycles the sender has completed in its epoch.
    public var cycle: UInt32
    /// The exchange this message belongs to (a reply or acknowledgement echoes the request's).
    public var exchange: UInt32
    /// The sender's newest epoch result, if any.
    public var hint: SizeHint?

    public init(epoch: UInt64, cycle: UInt32, exchange: UInt32, hint: SizeHint? = nil) {
        self.epoch = epoch
        self.cycle = cycle
        self.exchange = exchange
        self.hint = hint
    }
}

/// The messages of network-size estimation and their frame encoding.
public enum SizeMessage: Hashable, Sendable {
    /// Push-pull: the caller's value per instance slot (nil: it holds none in that slot).
    case request(SizeHeader, values: [InstanceValue?])
    /// Push-pull: per slot, the instance the callee settled on and its value there *before* it
    /// averaged. `averaged` false: the callee did not take part (another epoch, or it waits for the
    /// next one) and changed nothing.
    case reply(SizeHeader, averaged: Bool, values: [InstanceValue?])
    /// Push-sum: half of the sender's state per slot. `wantsAcknowledgement` when it may be resent.
    case share(SizeHeader, wantsAcknowledgement: Bool, shares: [InstanceShare?])
    /// Push-sum: the share `header.exchange` arrived (possibly before: it was applied once).
    case acknowledge(SizeHeader)

    /// The message's header.
    public var header: SizeHeader {
        switch self {
        case .request(let header, _), .reply(let header, _, _), .share(let header, _, _), .acknowledge(let header):
            header
        }
    }
}

extension SizeMessage {
    private static let averagedFlag: UInt8 = 0x01
    private static let acknowledgementFlag: UInt8 = 0x01
    /// Bytes of one present slot: presence, instance id, one value (push-pull) or two (push-sum).
    static let valueSlotBytes = 1 + NodeID.byteCount + 8
    static let shareSlotBytes = 1 + NodeID.byteCount + 16

    /// The frame carrying this message.
    public var frame: Frame {
        var writer = ByteWriter(capacity: 64)
        switch self {
        case .request(let header, let values):
            Self.write(header, to: &writer)
            Self.write(values, to: &writer)
            return Frame(type: FrameType.sizeExchangeRequest, body: writer.bytes)
        case .reply(let header, let averaged, let values):
            Self.write(header, to: &writer)
            writer.write(averaged ? Self.averagedFlag : 0)
            Self.write(values, to: &writer)
            return Frame(type: FrameType.sizeExchangeReply, body: writer.bytes)
        case .share(let header, let wantsAcknowledgement, let shares):
            Self.write(header, to: &writer)
            writer.write(wantsAcknowledgement ? Self.acknowledgementFlag : 0)
            writer.write(UInt8(truncatingIfNeeded: shares.count))
            for share in shares {
                guard let share else {
                    writer.write(UInt8(0))
                    continue
                }
                writer.write(UInt8(1))
                writer.write(share.instance.high)
                writer.write(share.instance.low)
                writer.write(share.sum.bitPattern)
                writer.write(share.weight.bitPattern)
            }
            return Frame(type: FrameType.pushSumShare, body: writer.bytes)
        case .acknowledge(let header):
            Self.write(header, to: &writer)
            return Frame(type: FrameType.pushSumAcknowledge, body: writer.bytes)
        }
    }

    /// Decodes a size frame; `nil` for another component's frame type or any malformed body: a
    /// truncation, trailing bytes, unknown flags, too many slots, a non-finite number, a negative
    /// push-sum share or a hint below one node. Never traps.
    public init?(frame: Frame) {
        var reader = ByteReader(frame.body)
        switch frame.type {
        case FrameType.sizeExchangeRequest:
            guard let header = Self.readHeader(&reader), let values = Self.readValues(&reader) else { return nil }
            self = .request(header, values: values)
        case FrameType.sizeExchangeReply:
            guard let header = Self.readHeader(&reader), let flags = reader.readUInt8(),
                flags & ~Self.averagedFlag == 0, let values = Self.readValues(&reader)
            else { return nil }
            self = .reply(header, averaged: flags == Self.averagedFlag, values: values)
        case FrameType.pushSumShare:
            guard let header = Self.readHeader(&reader), let flags = reader.readUInt8(),
                flags & ~Self.acknowledgementFlag == 0, let count = reader.readUInt8(),
                Int(count) <= SizeSettings.maximumInstances
            else { return nil }
            var shares: [InstanceShare?] = []
            shares.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let present = reader.readUInt8(), present <= 1 else { return nil }
                guard present == 1 else {
                    shares.append(nil)
                    continue
                }
                guard let high = reader.readUInt64(), let low = reader.readUInt64(), let sumBits = reader.readUInt64(),
                    let weightBits = reader.readUInt64()
                else { return nil }
                let sum = Double(bitPattern: sumBits)
                let weight = Double(bitPattern: weightBits)
                guard sum.isFinite, weight.isFinite, sum >= 0, weight >= 0 else { return nil }
                shares.append(InstanceShare(instance: NodeID(high: high, low: low), sum: sum, weight: weight))
            }
            self = .share(header, wantsAcknowledgement: flags == Self.acknowledgementFlag, shares: shares)
        case FrameType.pushSumAcknowledge:
            guard let header = Self.readHeader(&reader) else { return nil }
            self = .acknowledge(header)
        default:
            return nil
        }
        guard reader.isAtEnd else { return nil }
    }

    private static func write(_ header: SizeHeader, to writer: inout ByteWriter) {
        writer.write(header.epoch)
        writer.write(header.cycle)
        writer.write(header.exchange)
        if let hint = header.hint {
            writer.write(UInt8(1))
            writer.write(hint.size.bitPattern)
            writer.write(hint.epoch)
        } else {
            writer.write(UInt8(0))
        }
    }

    private static func write(_ values: [InstanceValue?], to writer: inout ByteWriter) {
        writer.write(UInt8(truncatingIfNeeded: values.count))
        for value in values {
            guard let value else {
                writer.write(UInt8(0))
                continue
            }
            writer.write(UInt8(1))
            writer.write(value.instance.high)
            writer.write(value.instance.low)
            writer.write(value.value.bitPattern)
        }
    }

    private static func readHeader(_ reader: inout ByteReader) -> SizeHeader? {
        guard let epoch = reader.readUInt64(), let cycle = reader.readUInt32(), let exchange = reader.readUInt32(),
            let hasHint = reader.readUInt8(), hasHint <= 1
        else { return nil }
        var header = SizeHeader(epoch: epoch, cycle: cycle, exchange: exchange)
        if hasHint == 1 {
            guard let sizeBits = reader.readUInt64(), let hintEpoch = reader.readUInt64() else { return nil }
            let size = Double(bitPattern: sizeBits)
            guard size.isFinite, size >= 1 else { return nil }
            header.hint = SizeHint(size: size, epoch: hintEpoch)
        }
        return header
    }

    private static func readValues(_ reader: inout ByteReader) -> [InstanceValue?]? {
        guard let count = reader.readUInt8(), Int(count) <= SizeSettings.maximumInstances else { return nil }
        var values: [InstanceValue?] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let present = reader.readUInt8(), present <= 1 else { return nil }
            guard present == 1 else {
                values.append(nil)
                continue
            }
            guard let high = reader.readUInt64(), let low = reader.readUInt64(), let bits = reader.readUInt64() else {
                return nil
            }
            let value = Double(bitPattern: bits)
            // Push-pull values may dip below zero for a moment (an exchange's delta applied after
            // another exchange changed the value), but never leave the finite numbers.
            guard value.isFinite else { return nil }
            values.append(InstanceValue(instance: NodeID(high: high, low: low), value: value))
        }
        return values
    }
}
