import DrizzleCore
import DrizzleCrypto
import DrizzleNode
import Foundation
import Testing

/// A fresh folder under /tmp for one test, removed afterwards.
private func withFolder(_ body: (String) throws -> Void) throws {
    let folder = "/tmp/drizzle-pieces-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try body(folder)
}

/// A small seeded generator, so a failing file can be rebuilt.
private struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = Generator(state: seed)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
        withUnsafeBytes(of: random.next()) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}

@Suite("Files split into pieces and assembled")
struct FilePiecesTests {
    @Test(
        "a 3 MB random file split and assembled in shuffled order is byte-identical", arguments: [256, 65_536, 100_003])
    func splitAndAssemble(pieceSize: Int) throws {
        try withFolder { folder in
            let original = randomBytes(3_000_017, seed: UInt64(pieceSize))
            let source = folder + "/source.bin"
            #expect(FileManager.default.createFile(atPath: source, contents: Data(original)))
            let suite = SodiumSuite()

            var reader = try FilePieceReader(path: source, pieceSize: UInt32(pieceSize))
            #expect(reader.fileSize == UInt64(original.count))
            #expect(reader.name == "source.bin")
            var pieces: [(offset: UInt64, bytes: [UInt8])] = []
            while let piece = try reader.next() {
                let offset = reader.offset
                let isLast = offset == reader.fileSize
                #expect(piece.count == pieceSize || isLast)
                pieces.append((offset - UInt64(piece.count), piece))
            }
            let afterLast = try reader.next()
            #expect(afterLast == nil)
            let pieceCount = reader.pieceCount
            #expect(UInt64(pieces.count) == pieceCount)
            let finished = reader.finish()
            let fileHash = try #require(finished)
            #expect(fileHash == original.withUnsafeBytes { suite.digest128($0) })
            #expect(try FilePieceReader.hash(ofFileAt: source) == fileHash)

            let destination = folder + "/copy.bin"
            var assembler = try FileAssembler(destination: destination)
            var random = Generator(state: 99)
            for piece in pieces.shuffled(using: &random) {
                try assembler.write(piece.bytes, at: piece.offset)
            }
            #expect(!FileManager.default.fileExists(atPath: destination))
            try assembler.commit()
            #expect(FileManager.default.contents(atPath: destination) == Data(original))
            #expect(try FilePieceReader.hash(ofFileAt: destination) == fileHash)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["copy.bin", "source.bin"])
        }
    }

    @Test("an empty file has no pieces and assembles to an empty file")
    func emptyFile() throws {
        try withFolder { folder in
            let source = folder + "/empty"
            #expect(FileManager.default.createFile(atPath: source, contents: Data()))
            var reader = try FilePieceReader(path: source, pieceSize: 256)
            let first = try reader.next()
            #expect(first == nil)
            let hash = reader.finish()
            #expect(hash == [UInt8]().withUnsafeBytes { SodiumSuite().digest128($0) })
            let assembler = try FileAssembler(destination: folder + "/copy")
            try assembler.commit()
            #expect(FileManager.default.contents(atPath: folder + "/copy") == Data())
        }
    }

    @Test("the file hash is only given once every piece was read")
    func hashNeedsEveryPiece() throws {
        try withFolder { folder in
            let source = folder + "/file"
            #expect(FileManager.default.createFile(atPath: source, contents: Data(randomBytes(1000, seed: 3))))
            var reader = try FilePieceReader(path: source, pieceSize: 256)
            _ = try reader.next()
            let hash = reader.finish()
            #expect(hash == nil)
        }
    }

    @Test("a missing file, a folder and a zero piece size are refused with one-line messages")
    func refusals() throws {
        try withFolder { folder in
            let missing = folder + "/nothing-here"
            #expect(throws: FilePieceReader.Failure.missing(missing)) {
                _ = try FilePieceReader(path: missing, pieceSize: 256)
            }
            #expect(FilePieceReader.Failure.missing(missing).description == "no file at \(missing): check the path")
            #expect(throws: FilePieceReader.Failure.missing(missing + "/below")) {
                _ = try FilePieceReader(path: missing + "/below", pieceSize: 256)
            }
            #expect(throws: FilePieceReader.Failure.folder(folder)) {
                _ = try FilePieceReader(path: folder, pieceSize: 256)
            }
            #expect(throws: FilePieceReader.Failure.zeroPieceSize) {
                _ = try FilePieceReader(path: folder, pieceSize: 0)
            }
            #expect(throws: FilePieceReader.Failure.missing(missing)) { try FilePieceReader.hash(ofFileAt: missing) }
            for failure: FilePieceReader.Failure in [
                .folder(folder), .unreadable(folder, reason: "Permission denied"), .changed(folder), .zeroPieceSize,
            ] {
                #expect(!failure.description.contains("\n"))
            }
        }
    }

    @Test("a file that shrinks while it is read is reported as changed")
    func shrinking() throws {
        try withFolder { folder in
            let source = folder + "/file"
            #expect(FileManager.default.createFile(atPath: source, contents: Data(randomBytes(1000, seed: 4))))
            var reader = try FilePieceReader(path: source, pieceSize: 256)
            _ = try reader.next()
            try FileHandle(forWritingTo: URL(fileURLWithPath: source)).truncate(atOffset: 300)
            var failure: FilePieceReader.Failure?
            do throws(FilePieceReader.Failure) {
                while try reader.next() != nil {}
            } catch {
                failure = error
            }
            #expect(failure == .changed(source))
        }
    }

    @Test("an abandoned or dropped assembly leaves neither the destination nor a temporary file")
    func abandon() throws {
        try withFolder { folder in
            let destination = folder + "/out"
            var assembler = try FileAssembler(destination: destination)
            try assembler.write([1, 2, 3], at: 0)
            #expect(FileManager.default.fileExists(atPath: assembler.temporaryPath))
            assembler.abandon()
            do {
                var dropped = try FileAssembler(destination: destination)
                try dropped.write([4], at: 10)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        }
    }

    @Test("an assembly in a missing folder is refused with a one-line message")
    func missingFolder() throws {
        try withFolder { folder in
            let destination = folder + "/no/such/out"
            var failure: FileAssembler.Failure?
            do throws(FileAssembler.Failure) {
                _ = try FileAssembler(destination: destination)
            } catch {
                failure = error
            }
            let description = try #require(failure).description
            #expect(description.contains(destination) && !description.contains("\n"))
        }
    }
}
