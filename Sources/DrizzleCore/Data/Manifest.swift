/// What a stored file is made of: its name, size and BLAKE2b-128, and the keys of its pieces in order.
///
/// A file is cut into pieces of `pieceSize` bytes (the last one may be shorter). Each write draws a
/// random `salt`; piece `i` is stored as the blob `salt ‖ bytes` under BLAKE2b-128 of that blob, and
/// the manifest itself is stored under BLAKE2b-128 of `encoded`. Blobs stay content-addressed (a
/// replica checks a blob against its key), but two writes never share one — not a copy of a file,
/// not two files with one identical piece — so deleting a file (`DN`) can remove every blob it
/// wrote without making another file unreadable. Piece `i` starts at byte `i * pieceSize` of the
/// file. A file that is one piece of at most `maximumInlineBytes` travels inside its manifest
/// instead (`content`): one blob, one lookup and one store per replica rather than two of each.
///
/// Encoding (big-endian): magic "DRZM", version (u8), file size (u64), piece size (u32), file hash
/// (16 bytes), name length (u16) and UTF-8 name; in versions 3 and 4 then the salt (u64); then in
/// versions 1 and 3 the piece count (u32) and per piece its key (16 bytes) and size (u32), in
/// versions 2 and 4 (inline) the file's bytes to the end. Versions 1 and 2, written before salts,
/// are still read; their pieces may be shared with other files, so deleting one removes only its
/// manifest.
public struct Manifest: Hashable, Sendable {
    /// One piece of the file: where it is stored and how many bytes it holds.
    public struct Piece: Hashable, Sendable {
        /// BLAKE2b-128 of the piece's bytes: the key it is stored under.
        public var key: NodeID
        /// The piece's length in bytes.
        public var size: UInt32

        public init(key: NodeID, size: UInt32) {
            self.key = key
            self.size = size
        }
    }

    /// The file's base name (no folder), 1 to 1,024 bytes of UTF-8.
    public var name: String
    /// The file's length in bytes.
    public var fileSize: UInt64
    /// The length of every piece but the last, in bytes.
    public var pieceSize: UInt32
    /// BLAKE2b-128 of the whole file.
    public var fileHash: NodeID
    /// The pieces in file order (none when the file is inline).
    public var pieces: [Piece]
    /// The whole file, when it travels inside the manifest (version 2); nil for a file in pieces.
    public var content: [UInt8]?
    /// The write's random salt, the first 8 bytes of every piece blob (versions 3 and 4); nil for a
    /// manifest written before salts (versions 1 and 2), whose blobs are the bare pieces.
    public var salt: UInt64?

    public static let magic: [UInt8] = Array("DRZM".utf8)
    /// The version of a manifest that lists pieces.
    public static let version: UInt8 = 3
    /// The version of a manifest that holds the file itself.
    public static let inlineVersion: UInt8 = 4
    /// The version of a manifest that lists unsalted pieces (read, no longer written).
    public static let unsaltedVersion: UInt8 = 1
    /// The version of an inline manifest without a salt (read, no longer written).
    public static let unsaltedInlineVersion: UInt8 = 2
    /// Bytes of the salt at the start of every piece blob.
    public static let saltBytes = 8
    /// The largest file kept inside its manifest (64 KiB), when it is also no longer than one piece.
    public static let maximumInlineBytes = 64 << 10
    /// The largest manifest written or accepted, in bytes (8 MiB).
    public static let maximumEncodedBytes = 8 << 20
    /// The longest name, in UTF-8 bytes.
    public static let maximumNameBytes = 1_024
    /// Bytes of the encoding before the name and the pieces: magic, version, sizes, hash, lengths, salt.
    static let fixedBytes = 4 + 1 + 8 + 4 + NodeID.byteCount + 2 + 4 + saltBytes
    /// Bytes of the encoding per piece: key and size.
    static let bytesPerPiece = NodeID.byteCount + 4

    /// A manifest from its parts. `encoded` of a manifest that breaks the rules checked by
    /// `init(decoding:)` (a bad name, sizes that do not add up) does not decode.
    public init(name: String, fileSize: UInt64, pieceSize: UInt32, fileHash: NodeID, salt: UInt64?, pieces: [Piece]) {
        self.name = name
        self.fileSize = fileSize
        self.pieceSize = pieceSize
        self.fileHash = fileHash
        self.salt = salt
        self.pieces = pieces
        content = nil
    }

    /// A manifest holding the whole file (`content.count` bytes, at most `maximumInlineBytes` and
    /// at most `pieceSize`, or it does not decode). The salt makes two writes of one small file two
    /// blobs, as it does for pieces.
    public init(name: String, pieceSize: UInt32, fileHash: NodeID, salt: UInt64?, content: [UInt8]) {
        self.name = name
        fileSize = UInt64(content.count)
        self.pieceSize = pieceSize
        self.fileHash = fileHash
        self.salt = salt
        pieces = []
        self.content = content
    }

    /// The blob a piece of a write with `salt` is stored as: the salt (8 bytes, big-endian), then
    /// the piece's bytes. Its key is BLAKE2b-128 of the blob.
    public static func pieceBlob(_ bytes: some Collection<UInt8>, salt: UInt64) -> [UInt8] {
        var blob: [UInt8] = []
        blob.reserveCapacity(saltBytes + bytes.count)
        for shift in stride(from: 56, through: 0, by: -8) { blob.append(UInt8(truncatingIfNeeded: salt >> UInt64(shift))) }
        blob.append(contentsOf: bytes)
        return blob
    }

    /// The piece's bytes inside a blob of this manifest, or nil when the blob does not start with
    /// this manifest's salt. A manifest without a salt (version 1) stored bare pieces.
    public func pieceBytes(of blob: [UInt8]) -> ArraySlice<UInt8>? {
        guard let salt else { return blob[...] }
        guard blob.count >= Self.saltBytes else { return nil }
        let prefix = blob.prefix(Self.saltBytes).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return prefix == salt ? blob.dropFirst(Self.saltBytes) : nil
    }

    /// True for a file of `fileSize` bytes cut in pieces of `pieceSize`: it fits one piece and
    /// `maximumInlineBytes`, so it is written inside its manifest.
    public static func isInline(fileSize: UInt64, pieceSize: UInt32) -> Bool {
        fileSize <= UInt64(pieceSize) && fileSize <= UInt64(maximumInlineBytes)
    }

    /// Why bytes are not a manifest. Each description is one line.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case badMagic
        case unsupportedVersion(UInt8)
        case truncated
        case tooLarge(Int)
        case nameNotUTF8
        case badName
        case inconsistentSizes
        case trailingBytes(Int)

        public var description: String {
            switch self {
            case .badMagic: "not a BitDrizzle manifest"
            case .unsupportedVersion(let version): "unsupported manifest version \(version)"
            case .truncated: "manifest is truncated"
            case .tooLarge(let count):
                "manifest is \(count) bytes, more than the limit of \(Manifest.maximumEncodedBytes) bytes"
            case .nameNotUTF8: "manifest file name is not UTF-8 text"
            case .badName:
                "manifest file name is not a plain file name of 1 to \(Manifest.maximumNameBytes) bytes (no / or NUL, not . or ..)"
            case .inconsistentSizes:
                "manifest sizes are inconsistent: the sum of piece sizes must equal the file size, every piece but a shorter last one having the piece size"
            case .trailingBytes(let count): "\(count) unexpected bytes after the manifest"
            }
        }
    }

    /// The bytes of the manifest, as stored and as hashed for its key.
    public var encoded: [UInt8] {
        let nameBytes = Array(name.utf8)
        let listed = Manifest.encodedSize(pieceCount: pieces.count, nameBytes: nameBytes.count)
        var writer = ByteWriter(capacity: listed + (content?.count ?? 0))
        writer.write(bytes: Manifest.magic)
        switch (content == nil, salt == nil) {
        case (true, false): writer.write(Manifest.version)
        case (false, false): writer.write(Manifest.inlineVersion)
        case (true, true): writer.write(Manifest.unsaltedVersion)
        case (false, true): writer.write(Manifest.unsaltedInlineVersion)
        }
        writer.write(fileSize)
        writer.write(pieceSize)
        writer.write(bytes: fileHash.bytes)
        writer.write(UInt16(truncatingIfNeeded: nameBytes.count))
        writer.write(bytes: nameBytes)
        if let salt { writer.write(salt) }
        if let content {
            writer.write(bytes: content)
            return writer.finish()
        }
        writer.write(UInt32(truncatingIfNeeded: pieces.count))
        for piece in pieces {
            writer.write(piece.key.high)
            writer.write(piece.key.low)
            writer.write(piece.size)
        }
        return writer.finish()
    }

    /// Decodes a manifest, checking the magic, the version, every length, the name and that the
    /// piece sizes add up to the file size. Never traps, whatever the bytes.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes)
        guard let magic = reader.readBytes(Manifest.magic.count) else { throw .truncated }
        guard magic == Manifest.magic else { throw .badMagic }
        guard let version = reader.readUInt8() else { throw .truncated }
        let versions = [Manifest.version, Manifest.inlineVersion, Manifest.unsaltedVersion, Manifest.unsaltedInlineVersion]
        guard versions.contains(version) else { throw .unsupportedVersion(version) }
        let salted = version == Manifest.version || version == Manifest.inlineVersion
        let inline = version == Manifest.inlineVersion || version == Manifest.unsaltedInlineVersion
        guard bytes.count <= Manifest.maximumEncodedBytes else { throw .tooLarge(bytes.count) }
        guard let fileSize = reader.readUInt64(), let pieceSize = reader.readUInt32(),
            let hashHigh = reader.readUInt64(), let hashLow = reader.readUInt64(),
            let nameLength = reader.readUInt16(), let nameBytes = reader.readBytes(Int(nameLength))
        else { throw .truncated }
        guard let name = String(validating: nameBytes, as: UTF8.self) else { throw .nameNotUTF8 }
        guard Manifest.isValidName(name) else { throw .badName }
        let fileHash = NodeID(high: hashHigh, low: hashLow)
        var salt: UInt64?
        if salted {
            guard let read = reader.readUInt64() else { throw .truncated }
            salt = read
        }
        if inline {
            guard let content = reader.readBytes(reader.remaining), UInt64(content.count) == fileSize, pieceSize > 0,
                Manifest.isInline(fileSize: fileSize, pieceSize: pieceSize)
            else { throw .inconsistentSizes }
            self.init(name: name, pieceSize: pieceSize, fileHash: fileHash, salt: salt, content: content)
            return
        }
        guard let pieceCount = reader.readUInt32() else { throw .truncated }
        // Refuse a count the bytes cannot hold before reserving room for it.
        guard Int(pieceCount) <= reader.remaining / Manifest.bytesPerPiece else { throw .truncated }
        var pieces: [Piece] = []
        pieces.reserveCapacity(Int(pieceCount))
        for _ in 0..<pieceCount {
            guard let high = reader.readUInt64(), let low = reader.readUInt64(), let size = reader.readUInt32() else {
                throw .truncated
            }
            pieces.append(Piece(key: NodeID(high: high, low: low), size: size))
        }
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
        guard Manifest.sizesAreConsistent(fileSize: fileSize, pieceSize: pieceSize, pieces: pieces) else {
            throw .inconsistentSizes
        }
        self.init(name: name, fileSize: fileSize, pieceSize: pieceSize, fileHash: fileHash, salt: salt, pieces: pieces)
    }

    /// True when `bytes` start with the manifest magic: worth trying `init(decoding:)` on.
    public static func looksLikeManifest(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: magic)
    }

    /// The length of the encoding of a manifest with `pieceCount` pieces and a name of `nameBytes`
    /// UTF-8 bytes; `Int.max` when that does not fit an `Int`. Compare with `maximumEncodedBytes`
    /// to refuse a piece size too small before reading the file.
    public static func encodedSize(pieceCount: Int, nameBytes: Int) -> Int {
        let (piecesBytes, overflow) = max(0, pieceCount).multipliedReportingOverflow(by: bytesPerPiece)
        guard !overflow else { return Int.max }
        let (total, overflowTotal) = piecesBytes.addingReportingOverflow(fixedBytes + max(0, nameBytes))
        return overflowTotal ? Int.max : total
    }

    /// How many pieces a file of `fileSize` bytes is cut into with pieces of `pieceSize` bytes;
    /// 0 for an empty file or a piece size of 0.
    public static func pieceCount(fileSize: UInt64, pieceSize: UInt32) -> UInt64 {
        guard pieceSize > 0 else { return 0 }
        let size = UInt64(pieceSize)
        return fileSize / size + (fileSize % size == 0 ? 0 : 1)
    }

    /// The smallest piece size whose manifest for a file of `fileSize` bytes and a name of
    /// `nameBytes` bytes fits `maximumEncodedBytes`, or nil when no piece size does. A writer says
    /// "piece size too small for a file this big: use at least N bytes" with it.
    public static func minimumPieceSize(fileSize: UInt64, nameBytes: Int) -> UInt32? {
        let room = maximumEncodedBytes - encodedSize(pieceCount: 0, nameBytes: nameBytes)
        guard room >= 0 else { return nil }
        let maximumPieces = UInt64(room / bytesPerPiece)
        guard fileSize > 0 else { return 1 }
        guard maximumPieces > 0 else { return nil }
        let size = fileSize / maximumPieces + (fileSize % maximumPieces == 0 ? 0 : 1)
        return size <= UInt64(UInt32.max) ? UInt32(size) : nil
    }

    /// True for a plain file name: 1 to 1,024 bytes of UTF-8, no `/` or NUL, not `.` or `..`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        return !bytes.isEmpty && bytes.count <= maximumNameBytes && name != "." && name != ".."
            && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0)
    }

    /// How many pieces the file was cut into: one for a non-empty inline file.
    public var pieceTotal: Int { content.map { $0.isEmpty ? 0 : 1 } ?? pieces.count }

    /// The byte offset of piece `index` in the file.
    public func offset(ofPiece index: Int) -> UInt64 {
        UInt64(max(0, index)) &* UInt64(pieceSize)
    }

    /// The key the manifest is stored under: BLAKE2b-128 of `encoded`.
    public func key(using suite: some CryptoSuite) -> NodeID {
        encoded.withUnsafeBytes { suite.digest128($0) }
    }

    /// Piece sizes follow the cut: every piece of `pieceSize` bytes but a last one of 1 to
    /// `pieceSize` bytes, adding up to `fileSize`.
    static func sizesAreConsistent(fileSize: UInt64, pieceSize: UInt32, pieces: [Piece]) -> Bool {
        guard pieceSize > 0, UInt64(pieces.count) == pieceCount(fileSize: fileSize, pieceSize: pieceSize) else {
            return false
        }
        var total: UInt64 = 0
        for (index, piece) in pieces.enumerated() {
            let isLast = index == pieces.count - 1
            guard isLast ? (piece.size >= 1 && piece.size <= pieceSize) : piece.size == pieceSize else { return false }
            let (sum, overflow) = total.addingReportingOverflow(UInt64(piece.size))
            guard !overflow else { return false }
            total = sum
        }
        return total == fileSize
    }
}
