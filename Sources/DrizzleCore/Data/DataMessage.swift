/// One stored blob: a piece or a manifest, under BLAKE2b-128 of its bytes.
public struct Blob: Hashable, Sendable {
    public var key: NodeID
    public var bytes: [UInt8]

    public init(key: NodeID, bytes: [UInt8]) {
        self.key = key
        self.bytes = bytes
    }
}

/// The data messages (frame types 0x50–0x57). They travel over TCP (length-framed, signed like
/// datagrams); every request carries an id its reply repeats.
public enum DataMessage: Hashable, Sendable {
    /// Store these blobs. `replication`: a copy from another replica, refused for keys with a
    /// tombstone; otherwise a client's write, which clears the tombstone.
    case store(request: UInt64, blobs: [Blob], replication: Bool)
    /// How the store went: keys refused (bad hash, tombstone, disk failure).
    case stored(request: UInt64, accepted: UInt32, refused: [NodeID])
    case fetch(request: UInt64, keys: [NodeID])
    /// `missing` lists keys not held here, or held damaged (then removed here).
    case fetched(request: UInt64, blobs: [Blob], missing: [NodeID])
    /// Deletes the keys and leaves tombstones.
    case delete(request: UInt64, keys: [NodeID])
    case deleted(request: UInt64, removed: UInt32)
    /// Replica maintenance: "I hold these keys, which you own or should hold."
    case offer(request: UInt64, keys: [NodeID])
    /// `wanted`: send me these. `buried`: deleted here — drop yours. `surplus`: you are not one
    /// of the r replicas and every replica has them — you may drop yours.
    case offerReply(request: UInt64, wanted: [NodeID], buried: [NodeID], surplus: [NodeID])

    public var request: UInt64 {
        switch self {
        case .store(let request, _, _), .stored(let request, _, _), .fetch(let request, _), .fetched(let request, _, _),
            .delete(let request, _), .deleted(let request, _), .offer(let request, _), .offerReply(let request, _, _, _):
            request
        }
    }

    /// True for the answers to requests.
    public var isReply: Bool {
        switch self {
        case .stored, .fetched, .deleted, .offerReply: true
        case .store, .fetch, .delete, .offer: false
        }
    }
}

extension DataMessage {
    /// The largest blob a store accepts (a piece or a manifest).
    public static let maximumBlobBytes = 8 << 20

    public var frame: Frame {
        var writer = ByteWriter()
        switch self {
        case .store(let request, let blobs, let replication):
            writer.write(request)
            writer.write(UInt8(replication ? 1 : 0))
            Self.write(blobs, to: &writer)
            return Frame(type: FrameType.dataStore, body: writer.finish())
        case .stored(let request, let accepted, let refused):
            writer.write(request)
            writer.write(accepted)
            Self.write(refused, to: &writer)
            return Frame(type: FrameType.dataStored, body: writer.finish())
        case .fetch(let request, let keys):
            writer.write(request)
            Self.write(keys, to: &writer)
            return Frame(type: FrameType.dataFetch, body: writer.finish())
        case .fetched(let request, let blobs, let missing):
            writer.write(request)
            Self.write(blobs, to: &writer)
            Self.write(missing, to: &writer)
            return Frame(type: FrameType.dataFetched, body: writer.finish())
        case .delete(let request, let keys):
            writer.write(request)
            Self.write(keys, to: &writer)
            return Frame(type: FrameType.dataDelete, body: writer.finish())
        case .deleted(let request, let removed):
            writer.write(request)
            writer.write(removed)
            return Frame(type: FrameType.dataDeleted, body: writer.finish())
        case .offer(let request, let keys):
            writer.write(request)
            Self.write(keys, to: &writer)
            return Frame(type: FrameType.dataOffer, body: writer.finish())
        case .offerReply(let request, let wanted, let buried, let surplus):
            writer.write(request)
            Self.write(wanted, to: &writer)
            Self.write(buried, to: &writer)
            Self.write(surplus, to: &writer)
            return Frame(type: FrameType.dataOfferReply, body: writer.finish())
        }
    }

    /// Decodes a data frame; nil for another component's frame or malformed bytes.
    public init?(frame: Frame) {
        var reader = ByteReader(frame.body)
        guard (FrameType.dataStore...FrameType.dataOfferReply).contains(frame.type), let request = reader.readUInt64()
        else { return nil }
        switch frame.type {
        case FrameType.dataStore:
            guard let flag = reader.readUInt8(), flag <= 1, let blobs = Self.readBlobs(&reader) else { return nil }
            self = .store(request: request, blobs: blobs, replication: flag == 1)
        case FrameType.dataStored:
            guard let accepted = reader.readUInt32(), let refused = Self.readKeys(&reader) else { return nil }
            self = .stored(request: request, accepted: accepted, refused: refused)
        case FrameType.dataFetch:
            guard let keys = Self.readKeys(&reader) else { return nil }
            self = .fetch(request: request, keys: keys)
        case FrameType.dataFetched:
            guard let blobs = Self.readBlobs(&reader), let missing = Self.readKeys(&reader) else { return nil }
            self = .fetched(request: request, blobs: blobs, missing: missing)
        case FrameType.dataDelete:
            guard let keys = Self.readKeys(&reader) else { return nil }
            self = .delete(request: request, keys: keys)
        case FrameType.dataDeleted:
            guard let removed = reader.readUInt32() else { return nil }
            self = .deleted(request: request, removed: removed)
        case FrameType.dataOffer:
            guard let keys = Self.readKeys(&reader) else { return nil }
            self = .offer(request: request, keys: keys)
        default:
            guard let wanted = Self.readKeys(&reader), let buried = Self.readKeys(&reader),
                let surplus = Self.readKeys(&reader)
            else { return nil }
            self = .offerReply(request: request, wanted: wanted, buried: buried, surplus: surplus)
        }
        guard reader.isAtEnd else { return nil }
    }

    private static func write(_ keys: [NodeID], to writer: inout ByteWriter) {
        writer.write(UInt32(truncatingIfNeeded: keys.count))
        for key in keys {
            writer.write(key.high)
            writer.write(key.low)
        }
    }

    private static func write(_ blobs: [Blob], to writer: inout ByteWriter) {
        writer.write(UInt32(truncatingIfNeeded: blobs.count))
        for blob in blobs {
            writer.write(blob.key.high)
            writer.write(blob.key.low)
            writer.write(UInt32(truncatingIfNeeded: blob.bytes.count))
            writer.write(bytes: blob.bytes)
        }
    }

    private static func readKeys(_ reader: inout ByteReader) -> [NodeID]? {
        // Each key takes 16 bytes: a count larger than the bytes left is malformed.
        guard let count = reader.readUInt32(), Int(count) <= reader.remaining / 16 else { return nil }
        var keys: [NodeID] = []
        keys.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let key = RingMessage.readID(&reader) else { return nil }
            keys.append(key)
        }
        return keys
    }

    private static func readBlobs(_ reader: inout ByteReader) -> [Blob]? {
        guard let count = reader.readUInt32(), Int(count) <= reader.remaining / 20 else { return nil }
        var blobs: [Blob] = []
        blobs.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let key = RingMessage.readID(&reader), let length = reader.readUInt32(),
                Int(length) <= maximumBlobBytes, let bytes = reader.readBytes(Int(length))
            else { return nil }
            blobs.append(Blob(key: key, bytes: bytes))
        }
        return blobs
    }
}
