import DrizzleCore
import DrizzleCrypto
import Testing

@Suite("Manifest codec")
struct ManifestTests {
    /// The manifest of `fileSize` seeded random bytes cut into `pieceSize`-byte pieces.
    static func manifest(fileSize: Int, pieceSize: UInt32, name: String = "report.pdf", seed: UInt64 = 1) -> Manifest {
        var random = SplitMix(seed: seed)
        let file = (0..<fileSize).map { _ in UInt8.random(in: 0...255, using: &random) }
        var pieces: [Manifest.Piece] = []
        var start = 0
        while start < file.count {
            let end = min(file.count, start + Int(pieceSize))
            let key = file[start..<end].withUnsafeBytes { Fixture.suite.digest128($0) }
            pieces.append(Manifest.Piece(key: key, size: UInt32(end - start)))
            start = end
        }
        let hash = file.withUnsafeBytes { Fixture.suite.digest128($0) }
        return Manifest(
            name: name, fileSize: UInt64(fileSize), pieceSize: pieceSize, fileHash: hash, salt: 0x0102_0304_0506_0708,
            pieces: pieces)
    }

    @Test("a manifest survives encode and decode, an empty file and a non-ASCII name included")
    func roundTrip() throws {
        for manifest in [
            Self.manifest(fileSize: 10_000, pieceSize: 256),
            Self.manifest(fileSize: 4096, pieceSize: 1024, name: "données €.bin"),
            Self.manifest(fileSize: 0, pieceSize: 65_536, name: "empty"),
            Self.manifest(fileSize: 1, pieceSize: 1, name: String(repeating: "n", count: Manifest.maximumNameBytes)),
        ] {
            let encoded = manifest.encoded
            #expect(
                encoded.count
                    == Manifest.encodedSize(pieceCount: manifest.pieces.count, nameBytes: manifest.name.utf8.count))
            #expect(Manifest.looksLikeManifest(encoded))
            #expect(try Manifest(decoding: encoded) == manifest)
        }
    }

    @Test("the encoding is the documented layout, big-endian, with the write's salt after the name (version 3)")
    func layout() throws {
        let key = NodeID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)
        let manifest = Manifest(
            name: "ab", fileSize: 5, pieceSize: 8, fileHash: key, salt: 0xA1A2_A3A4_A5A6_A7A8,
            pieces: [Manifest.Piece(key: key, size: 5)])
        let expected: [UInt8] =
            Array("DRZM".utf8) + [3] + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 0, 0, 8] + key.bytes + [0, 2] + Array("ab".utf8)
            + [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8] + [0, 0, 0, 1] + key.bytes + [0, 0, 0, 5]
        #expect(manifest.encoded == expected)
        #expect(manifest.offset(ofPiece: 3) == 24)
        // A manifest written before salts (version 1) still reads, without a salt.
        let unsalted = Manifest(
            name: "ab", fileSize: 5, pieceSize: 8, fileHash: key, salt: nil, pieces: [Manifest.Piece(key: key, size: 5)])
        let version1: [UInt8] =
            Array("DRZM".utf8) + [1] + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 0, 0, 8] + key.bytes + [0, 2] + Array("ab".utf8)
            + [0, 0, 0, 1] + key.bytes + [0, 0, 0, 5]
        #expect(unsalted.encoded == version1)
        #expect(try Manifest(decoding: version1) == unsalted)
    }

    @Test("a piece is stored as the write's salt and its bytes: two writes of one file share no blob")
    func saltedPieces() {
        let bytes: [UInt8] = [1, 2, 3]
        let first = Manifest.pieceBlob(bytes, salt: 0x0102_0304_0506_0708)
        #expect(first == [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3])
        let second = Manifest.pieceBlob(bytes, salt: 9)
        #expect(first.withUnsafeBytes { Fixture.suite.digest128($0) } != second.withUnsafeBytes { Fixture.suite.digest128($0) })
        let manifest = Manifest(
            name: "a", fileSize: 3, pieceSize: 3, fileHash: NodeID(high: 0, low: 1), salt: 0x0102_0304_0506_0708,
            pieces: [])
        #expect(manifest.pieceBytes(of: first).map(Array.init) == bytes)
        #expect(manifest.pieceBytes(of: second) == nil, "a blob of another write is not this file's piece")
        #expect(manifest.pieceBytes(of: [1, 2]) == nil)
    }

    @Test("a file of one piece up to 64 KiB travels inside its manifest (version 2): layout, round trip, limits")
    func inline() throws {
        let hash = NodeID(high: 1, low: 2)
        let small = Manifest(name: "ab", pieceSize: 8, fileHash: hash, salt: 5, content: [7, 8, 9])
        #expect(
            small.encoded
                == Array("DRZM".utf8) + [4] + [0, 0, 0, 0, 0, 0, 0, 3] + [0, 0, 0, 8] + hash.bytes + [0, 2] + Array("ab".utf8)
                + [0, 0, 0, 0, 0, 0, 0, 5] + [7, 8, 9])
        let unsalted = Manifest(name: "ab", pieceSize: 8, fileHash: hash, salt: nil, content: [7, 8, 9])
        #expect(Array(unsalted.encoded.prefix(5)) == Array("DRZM".utf8) + [2])
        #expect(try Manifest(decoding: unsalted.encoded) == unsalted)
        #expect(try Manifest(decoding: small.encoded) == small)
        #expect(small.pieces.isEmpty && small.pieceTotal == 1 && small.fileSize == 3)
        let empty = Manifest(name: "e", pieceSize: 1, fileHash: hash, salt: 1, content: [])
        #expect(try Manifest(decoding: empty.encoded) == empty)
        #expect(empty.pieceTotal == 0)
        let largest = Manifest(
            name: "big", pieceSize: 1 << 20, fileHash: hash, salt: 1, content: [UInt8](repeating: 1, count: Manifest.maximumInlineBytes))
        #expect(try Manifest(decoding: largest.encoded) == largest)
        // Which files are inline: one piece, at most 64 KiB.
        #expect(Manifest.isInline(fileSize: 1024, pieceSize: 1024))
        #expect(!Manifest.isInline(fileSize: 1025, pieceSize: 1024))
        #expect(!Manifest.isInline(fileSize: UInt64(Manifest.maximumInlineBytes) + 1, pieceSize: 1 << 20))
        // Content longer than a piece or than 64 KiB, or a piece size of 0, is refused.
        for refused in [
            Manifest(name: "a", pieceSize: 2, fileHash: hash, salt: 1, content: [1, 2, 3]),
            Manifest(name: "a", pieceSize: 0, fileHash: hash, salt: 1, content: []),
            Manifest(
                name: "a", pieceSize: 1 << 20, fileHash: hash, salt: 1,
                content: [UInt8](repeating: 1, count: Manifest.maximumInlineBytes + 1)),
        ] {
            #expect(throws: Manifest.DecodingError.inconsistentSizes) { try Manifest(decoding: refused.encoded) }
        }
        // A file size that does not match the bytes that follow is refused.
        var longer = small.encoded
        longer[12] = 4
        #expect(throws: Manifest.DecodingError.inconsistentSizes) { try Manifest(decoding: longer) }
        // Cut anywhere before the content, it is truncated.
        for length in 0..<(small.encoded.count - 3) {
            #expect(throws: Manifest.DecodingError.self) { try Manifest(decoding: Array(small.encoded[0..<length])) }
        }
    }

    @Test("every truncation of a manifest is refused as truncated")
    func truncations() {
        let encoded = Self.manifest(fileSize: 1000, pieceSize: 256).encoded
        for length in 0..<encoded.count {
            #expect(throws: Manifest.DecodingError.truncated) { try Manifest(decoding: Array(encoded[0..<length])) }
        }
    }

    @Test("10,000 random byte strings, with and without the magic, never crash the decoder")
    func randomBytes() {
        var random = SplitMix(seed: 42)
        var accepted = 0
        for round in 0..<10_000 {
            let length = Int.random(in: 0...200, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 2 == 0 { bytes = Manifest.magic + [Manifest.version] + bytes }
            if (try? Manifest(decoding: bytes)) != nil { accepted += 1 }
        }
        #expect(accepted < 10)
    }

    @Test("random damage to a valid manifest is refused or decodes to a valid manifest, never crashes")
    func damage() {
        let encoded = Self.manifest(fileSize: 3000, pieceSize: 512).encoded
        var random = SplitMix(seed: 7)
        for _ in 0..<10_000 {
            var bytes = encoded
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if let manifest = try? Manifest(decoding: bytes) {
                #expect(manifest.encoded == bytes)
            }
        }
    }

    @Test("a bad magic, a new version, trailing bytes and a huge piece count are refused")
    func garbage() {
        let encoded = Self.manifest(fileSize: 1000, pieceSize: 256).encoded
        var badMagic = encoded
        badMagic[0] = UInt8(ascii: "X")
        #expect(throws: Manifest.DecodingError.badMagic) { try Manifest(decoding: badMagic) }
        #expect(!Manifest.looksLikeManifest(badMagic))
        #expect(!Manifest.looksLikeManifest(Array("DRZ".utf8)))
        var newVersion = encoded
        newVersion[4] = 5
        #expect(throws: Manifest.DecodingError.unsupportedVersion(5)) { try Manifest(decoding: newVersion) }
        #expect(throws: Manifest.DecodingError.trailingBytes(3)) { try Manifest(decoding: encoded + [0, 0, 0]) }
        var writer = ByteWriter()
        writer.write(bytes: Manifest.magic)
        writer.write(Manifest.version)
        writer.write(UInt64(1))
        writer.write(UInt32(1))
        writer.write(bytes: [UInt8](repeating: 0, count: 16))
        writer.write(UInt16(1))
        writer.write(bytes: Array("a".utf8))
        writer.write(UInt64(7))
        writer.write(UInt32.max)
        #expect(throws: Manifest.DecodingError.truncated) { try Manifest(decoding: writer.finish()) }
        #expect(throws: Manifest.DecodingError.tooLarge(Manifest.maximumEncodedBytes + 1)) {
            try Manifest(
                decoding: Manifest.magic + [Manifest.version]
                    + [UInt8](repeating: 0, count: Manifest.maximumEncodedBytes - 4))
        }
    }

    @Test("a name that is not UTF-8 or not a plain file name is refused")
    func names() {
        let good = Self.manifest(fileSize: 10, pieceSize: 4, name: "abc")
        let nameStart = 4 + 1 + 8 + 4 + 16 + 2
        var notUTF8 = good.encoded
        notUTF8[nameStart] = 0xFF
        #expect(throws: Manifest.DecodingError.nameNotUTF8) { try Manifest(decoding: notUTF8) }
        for name in ["", ".", "..", "a/b", "/etc", "a\u{0}b", String(repeating: "é", count: 513)] {
            var manifest = good
            manifest.name = name
            #expect(throws: Manifest.DecodingError.badName, "\(name.debugDescription)") {
                try Manifest(decoding: manifest.encoded)
            }
        }
        #expect(Manifest.isValidName(".hidden"))
        #expect(Manifest.isValidName("a b ü"))
    }

    @Test("pieces that do not add up to the file size, or do not follow the piece size, are refused")
    func inconsistentSizes() {
        let good = Self.manifest(fileSize: 1000, pieceSize: 256)
        var cases: [Manifest] = []
        var bigger = good
        bigger.fileSize += 1
        cases.append(bigger)
        var smaller = good
        smaller.fileSize -= 1
        cases.append(smaller)
        var shortMiddle = good
        shortMiddle.pieces[1].size = 255
        shortMiddle.pieces[3].size += 1
        cases.append(shortMiddle)
        var emptyLast = good
        emptyLast.pieces.append(Manifest.Piece(key: good.fileHash, size: 0))
        cases.append(emptyLast)
        var missingPiece = good
        missingPiece.pieces.removeLast()
        cases.append(missingPiece)
        var extraPiece = Self.manifest(fileSize: 768, pieceSize: 256)
        extraPiece.pieces.append(Manifest.Piece(key: good.fileHash, size: 1))
        cases.append(extraPiece)
        var zeroPieceSize = Self.manifest(fileSize: 0, pieceSize: 1)
        zeroPieceSize.pieceSize = 0
        cases.append(zeroPieceSize)
        var wrongSplit = Self.manifest(fileSize: 512, pieceSize: 256)
        wrongSplit.pieces = [
            Manifest.Piece(key: good.fileHash, size: 255), Manifest.Piece(key: good.fileHash, size: 257),
        ]
        cases.append(wrongSplit)
        for manifest in cases {
            #expect(throws: Manifest.DecodingError.inconsistentSizes) { try Manifest(decoding: manifest.encoded) }
        }
        #expect(
            Manifest.DecodingError.inconsistentSizes.description.contains("sum of piece sizes must equal the file size")
        )
    }

    @Test("the size helpers say how big a manifest gets and which piece size keeps it under the limit")
    func sizeHelpers() throws {
        #expect(Manifest.encodedSize(pieceCount: 0, nameBytes: 0) == 47)
        #expect(Manifest.encodedSize(pieceCount: 3, nameBytes: 10) == 47 + 10 + 60)
        #expect(Manifest.encodedSize(pieceCount: Int.max, nameBytes: 10) == Int.max)
        #expect(Manifest.pieceCount(fileSize: 0, pieceSize: 256) == 0)
        #expect(Manifest.pieceCount(fileSize: 256, pieceSize: 256) == 1)
        #expect(Manifest.pieceCount(fileSize: 257, pieceSize: 256) == 2)
        #expect(Manifest.maximumEncodedBytes == 8 * 1024 * 1024)
        // 1 GiB in 256-byte pieces: 4 Mi pieces, 80 MiB of manifest, far over the limit.
        let fileSize: UInt64 = 1 << 30
        let tooMany = Int(Manifest.pieceCount(fileSize: fileSize, pieceSize: 256))
        #expect(Manifest.encodedSize(pieceCount: tooMany, nameBytes: 8) > Manifest.maximumEncodedBytes)
        let minimum = try #require(Manifest.minimumPieceSize(fileSize: fileSize, nameBytes: 8))
        let fitting = Int(Manifest.pieceCount(fileSize: fileSize, pieceSize: minimum))
        #expect(Manifest.encodedSize(pieceCount: fitting, nameBytes: 8) <= Manifest.maximumEncodedBytes)
        let oneLess = Int(Manifest.pieceCount(fileSize: fileSize, pieceSize: minimum - 1))
        #expect(Manifest.encodedSize(pieceCount: oneLess, nameBytes: 8) > Manifest.maximumEncodedBytes)
        #expect(Manifest.minimumPieceSize(fileSize: 0, nameBytes: 8) == 1)
        #expect(Manifest.minimumPieceSize(fileSize: UInt64.max, nameBytes: 8) == nil)
    }

    @Test("a manifest at the size limit decodes; one piece more is refused as too large")
    func atTheLimit() throws {
        let nameBytes = 4
        let pieceCount = (Manifest.maximumEncodedBytes - Manifest.encodedSize(pieceCount: 0, nameBytes: nameBytes)) / 20
        let pieces = [Manifest.Piece](
            repeating: Manifest.Piece(key: NodeID(high: 1, low: 2), size: 1), count: pieceCount)
        var manifest = Manifest(
            name: "data", fileSize: UInt64(pieceCount), pieceSize: 1, fileHash: NodeID(high: 3, low: 4), salt: 1,
            pieces: pieces)
        #expect(try Manifest(decoding: manifest.encoded) == manifest)
        manifest.pieces.append(Manifest.Piece(key: NodeID(high: 1, low: 2), size: 1))
        manifest.fileSize += 1
        let encoded = manifest.encoded
        #expect(throws: Manifest.DecodingError.tooLarge(encoded.count)) { try Manifest(decoding: encoded) }
    }

    @Test("every decoding error reads as one line")
    func descriptions() {
        let errors: [Manifest.DecodingError] = [
            .badMagic, .unsupportedVersion(9), .truncated, .tooLarge(9_000_000), .nameNotUTF8, .badName,
            .inconsistentSizes, .trailingBytes(2),
        ]
        for error in errors {
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
        #expect(Manifest.DecodingError.badMagic.description == "not a BitDrizzle manifest")
    }

    @Test("the manifest key is BLAKE2b-128 of its encoding")
    func key() {
        let manifest = Self.manifest(fileSize: 100, pieceSize: 10)
        let encoded = manifest.encoded
        #expect(manifest.key(using: Fixture.suite) == encoded.withUnsafeBytes { Fixture.suite.digest128($0) })
    }
}
