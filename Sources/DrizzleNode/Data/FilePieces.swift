public import DrizzleCore
import DrizzleCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file piece by piece, so a file of hundreds of megabytes is never held whole in memory,
/// and hashes it (BLAKE2b-128) on the way, so one pass yields both the pieces and the file hash.
///
/// The size is taken when the file is opened; a file that shrinks while it is read is an error.
public struct FilePieceReader: ~Copyable {
    /// Why a file cannot be read. Each description is one line naming the file and what to do.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case missing(String)
        case folder(String)
        case unreadable(String, reason: String)
        case changed(String)
        case zeroPieceSize

        public var description: String {
            switch self {
            case .missing(let path): "no file at \(path): check the path"
            case .folder(let path): "\(path) is a folder, not a file: name a file inside it"
            case .unreadable(let path, let reason): "cannot read \(path) (\(reason)): check its permissions"
            case .changed(let path): "\(path) got shorter while it was read: read it again once nothing writes to it"
            case .zeroPieceSize: "the piece size must be at least 1 byte"
            }
        }
    }

    /// The file read, as given.
    public let path: String
    /// The file's length in bytes, when it was opened.
    public let fileSize: UInt64
    /// The length of every piece but the last.
    public let pieceSize: UInt32
    /// How many bytes `next()` has returned so far.
    public private(set) var offset: UInt64 = 0

    private var descriptor: Int32
    private var digest: StreamingDigest? = StreamingDigest()

    /// Opens `path` for reading in pieces of `pieceSize` bytes.
    public init(path: String, pieceSize: UInt32) throws(Failure) {
        guard pieceSize > 0 else { throw .zeroPieceSize }
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .missing(path) }
            throw .unreadable(path, reason: Syscall.errorText())
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw .folder(path) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .unreadable(path, reason: "not a regular file") }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(path, reason: Syscall.errorText()) }
        var opened = stat()
        guard fstat(descriptor, &opened) == 0, opened.st_size >= 0 else {
            let reason = Syscall.errorText()
            close(descriptor)
            throw .unreadable(path, reason: reason)
        }
        self.path = path
        self.pieceSize = pieceSize
        self.descriptor = descriptor
        fileSize = UInt64(opened.st_size)
    }

    deinit { close(descriptor) }

    /// The last component of the path: the name a manifest records.
    public var name: String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// How many pieces the file is cut into.
    public var pieceCount: UInt64 { Manifest.pieceCount(fileSize: fileSize, pieceSize: pieceSize) }

    /// The next piece (`pieceSize` bytes, the last one possibly shorter), or nil after the last.
    public mutating func next() throws(Failure) -> [UInt8]? {
        guard offset < fileSize else { return nil }
        let count = Int(min(UInt64(pieceSize), fileSize - offset))
        var failed = false
        let piece = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let read = Syscall.readFully(descriptor, into: UnsafeMutableRawBufferPointer(buffer))
            failed = read < 0
            initialized = max(0, read)
        }
        if failed { throw .unreadable(path, reason: Syscall.errorText()) }
        guard piece.count == count else { throw .changed(path) }
        digest?.update(piece)
        offset += UInt64(count)
        return piece
    }

    /// BLAKE2b-128 of the whole file, once every piece has been read; nil before that.
    public consuming func finish() -> NodeID? {
        guard offset == fileSize else { return nil }
        return digest.take()?.finish()
    }

    /// BLAKE2b-128 of the file at `path`, read 1 MiB at a time.
    public static func hash(ofFileAt path: String) throws(Failure) -> NodeID {
        var reader = try FilePieceReader(path: path, pieceSize: 1 << 20)
        while try reader.next() != nil {}
        return reader.finish() ?? NodeID(high: 0, low: 0)
    }
}

/// Builds a file from pieces written in any order: a temporary file beside the destination that
/// `commit()` fsyncs and renames over it, so the destination appears whole or not at all.
///
/// A value dropped without `commit()` removes its temporary file, as `abandon()` does.
public struct FileAssembler: ~Copyable {
    /// Why the file could not be built. Each description is one line naming the file and what to do.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case cannotCreate(String, reason: String)
        case cannotWrite(String, reason: String)
        case cannotCommit(String, reason: String)

        public var description: String {
            switch self {
            case .cannotCreate(let path, let reason):
                "cannot create a file beside \(path) (\(reason)): check that its folder exists and is writable"
            case .cannotWrite(let path, let reason):
                "cannot write \(path) (\(reason)): check the free space of its file system"
            case .cannotCommit(let path, let reason):
                "cannot put \(path) in place (\(reason)): check the free space and the folder's permissions"
            }
        }
    }

    /// Where the file goes on `commit()` (replacing what is there).
    public let destination: String
    /// The temporary file being written, in the destination's folder.
    public let temporaryPath: String
    private var descriptor: Int32

    /// Creates the temporary file (mode 0644 narrowed by the umask) beside `destination`.
    public init(destination: String) throws(Failure) {
        let slash = destination.lastIndex(of: "/")
        let folder = slash.map { String(destination[...$0]) } ?? ""
        let base = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        var descriptor: Int32 = -1
        var temporary = ""
        for _ in 0..<8 {
            temporary = folder + "." + base + "." + String(UInt32.random(in: 0...UInt32.max), radix: 16) + ".part"
            descriptor = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw .cannotCreate(destination, reason: Syscall.errorText()) }
        self.destination = destination
        temporaryPath = temporary
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Writes `bytes` at byte `offset` of the file.
    public mutating func write(_ bytes: [UInt8], at offset: UInt64) throws(Failure) {
        let written = bytes.withUnsafeBytes { Syscall.writeAll(descriptor, $0, at: offset) }
        guard written else { throw .cannotWrite(destination, reason: Syscall.errorText()) }
    }

    /// Fsyncs the file, renames it over the destination and fsyncs the folder. On failure the
    /// temporary file is removed and the destination left as it was.
    public consuming func commit() throws(Failure) {
        let descriptor = self.descriptor
        self.descriptor = -1
        let synced = fsync(descriptor) == 0
        var reason = synced ? "" : Syscall.errorText()
        let closed = close(descriptor) == 0
        if synced, !closed { reason = Syscall.errorText() }
        guard synced, closed, rename(temporaryPath, destination) == 0 else {
            if reason.isEmpty { reason = Syscall.errorText() }
            unlink(temporaryPath)
            throw .cannotCommit(destination, reason: reason)
        }
        let slash = destination.lastIndex(of: "/")
        Syscall.syncFolder(slash.map { $0 == destination.startIndex ? "/" : String(destination[..<$0]) } ?? ".")
    }

    /// Removes the temporary file; the destination is left as it was.
    public consuming func abandon() {
        close(descriptor)
        unlink(temporaryPath)
        descriptor = -1
    }
}
