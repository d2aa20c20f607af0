public import DrizzleCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The runtime's `PieceStore`: one file per blob under a data folder, tombstones as empty files.
///
/// Layout: `<directory>/pieces/<first two hex digits>/<32 hex digits>` for blobs and
/// `<directory>/tombstones/<32 hex digits>` for tombstones, `<directory>/local/<32 hex digits>` marking
/// blobs written to this node only (`WL`), folders 0700 and files 0600. A write goes
/// to a temporary file in the blob's folder, is fsynced, renamed over the blob and the folder
/// fsynced, so a crash leaves either the old bytes or the new ones. `write(batch:)` does the same
/// as a group commit: every temporary file written, one flush for all their data, every rename, one
/// flush for all the renames. The keys held are indexed in
/// memory when the store is opened (which also deletes temporary files a crash left behind), so
/// `keys`, `count`, `contains` and `isBuried` touch no disk.
///
/// Each copy of the value keeps its own index: use one store per folder.
public struct DiskPieceStore: PieceStore, Sendable {
    /// Why the data folder cannot be used. Each description is one line naming the folder and what to do.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case cannotCreate(String, reason: String)
        case notAFolder(String)
        case inaccessible(String, reason: String)

        public var description: String {
            switch self {
            case .cannotCreate(let path, let reason):
                "cannot create the data folder \(path) (\(reason)): check the permissions of its parent or set data.dir to another folder"
            case .notAFolder(let path):
                "\(path) is not a folder: move it away or set data.dir to another folder"
            case .inaccessible(let path, let reason):
                "cannot read and write the data folder \(path) (\(reason)): run chmod 700 \(path) as its owner or set data.dir to another folder"
            }
        }
    }

    /// The data folder, as given (without a trailing slash).
    public let directory: String
    /// The largest blob `read` returns; a bigger file is treated as unreadable (pieces are at most
    /// 16 MiB and manifests 8 MiB).
    public static let maximumBlobBytes = 64 << 20

    private let piecesFolder: String
    private let tombstonesFolder: String
    /// Empty files naming the blobs written to this node only (`WL`).
    private let localFolder: String
    private var held: Set<NodeID> = []
    private var buried: Set<NodeID> = []
    private var localOnly: Set<NodeID> = []

    /// Opens the store in `directory`, creating it (and its parents) 0700 when missing, indexing the
    /// keys and tombstones found and deleting temporary files left by an interrupted write.
    public init(directory: String) throws(Failure) {
        var root = directory
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.directory = root
        piecesFolder = root + "/pieces"
        tombstonesFolder = root + "/tombstones"
        localFolder = root + "/local"
        try Self.makeFolder(root, parents: true)
        try Self.makeFolder(piecesFolder, parents: false)
        try Self.makeFolder(tombstonesFolder, parents: false)
        try Self.makeFolder(localFolder, parents: false)
        for folder in [root, piecesFolder, tombstonesFolder, localFolder] {
            guard access(folder, R_OK | W_OK | X_OK) == 0 else {
                throw .inaccessible(folder, reason: Syscall.errorText())
            }
        }
        guard let shards = Syscall.entries(of: piecesFolder) else {
            throw .inaccessible(piecesFolder, reason: Syscall.errorText())
        }
        for shard in shards where shard.mayBeFolder && shard.name.utf8.count == 2 && Hex.decode(shard.name) != nil {
            let folder = piecesFolder + "/" + shard.name
            guard let entries = Syscall.entries(of: folder) else { continue }
            var removedTemporary = false
            for entry in entries where entry.mayBeFile {
                if Self.isTemporary(entry.name) {
                    removedTemporary = unlink(folder + "/" + entry.name) == 0 || removedTemporary
                } else if let key = Self.key(named: entry.name),
                    entry.name.utf8.prefix(2).elementsEqual(shard.name.utf8)
                {
                    held.insert(key)
                }
            }
            if removedTemporary { Syscall.syncFolder(folder) }
        }
        guard let tombstones = Syscall.entries(of: tombstonesFolder) else {
            throw .inaccessible(tombstonesFolder, reason: Syscall.errorText())
        }
        for entry in tombstones where entry.mayBeFile {
            if Self.isTemporary(entry.name) {
                _ = unlink(tombstonesFolder + "/" + entry.name)
            } else if let key = Self.key(named: entry.name) {
                buried.insert(key)
            }
        }
        for entry in Syscall.entries(of: localFolder) ?? [] where entry.mayBeFile {
            if let key = Self.key(named: entry.name), held.contains(key) { localOnly.insert(key) }
        }
    }

    /// The file holding the blob of `key` (whether or not it exists).
    public func path(of key: NodeID) -> String {
        let hex = Self.fileName(of: key)
        return piecesFolder + "/" + hex.prefix(2) + "/" + hex
    }

    public var keys: [NodeID] { Array(held) }

    public var count: Int { held.count }

    public func contains(_ key: NodeID) -> Bool { held.contains(key) }

    /// The bytes of `key`'s file as they are on disk (damage included), or nil when the key is not
    /// held, the file is gone or unreadable, or it is larger than `maximumBlobBytes`.
    public func read(_ key: NodeID) -> [UInt8]? {
        guard held.contains(key) else { return nil }
        return Syscall.readWholeFile(path(of: key), limit: Self.maximumBlobBytes)
    }

    /// Writes `bytes` to a temporary file beside the blob, fsyncs it, renames it over the blob and
    /// fsyncs the folder. False on any failure, with the temporary file removed.
    public mutating func write(_ key: NodeID, _ bytes: [UInt8]) -> Bool {
        let hex = Self.fileName(of: key)
        let folder = piecesFolder + "/" + hex.prefix(2)
        let target = folder + "/" + hex
        let temporary = folder + "/." + hex + "." + String(UInt32.random(in: 0...UInt32.max), radix: 16) + ".tmp"
        var descriptor = Syscall.createExclusive(temporary)
        if descriptor < 0, errno == ENOENT {
            // First blob of this shard: make its folder and make that durable too.
            guard mkdir(folder, 0o700) == 0 || errno == EEXIST else { return false }
            Syscall.syncFolder(piecesFolder)
            descriptor = Syscall.createExclusive(temporary)
        }
        guard descriptor >= 0 else { return false }
        let written = Syscall.writeAll(descriptor, bytes) && fsync(descriptor) == 0
        let closed = close(descriptor) == 0
        guard written, closed, rename(temporary, target) == 0 else {
            unlink(temporary)
            return false
        }
        held.insert(key)
        return Syscall.syncFolder(folder)
    }

    /// How a batch makes its bytes and its renames durable.
    enum Flush: Sendable, CaseIterable {
        /// `syncfs` on the store's file system: once for the data of every temporary file, once for
        /// every rename (Linux).
        case fileSystem
        /// `fsync` of each temporary file, then of each folder touched once (where `syncfs` is missing).
        case eachFile
    }

    /// Stores the blobs as a group commit: each goes to its own temporary file beside its blob, the
    /// bytes of all are flushed together, each temporary file is renamed over its blob and the renames
    /// are flushed together. A blob is therefore either absent or complete after a crash, and durable
    /// once its result is true. One result per blob, in order: false for a blob that could not be
    /// written or renamed (nothing of it is left behind) and for every blob when a flush fails.
    public mutating func write(batch: [Blob]) -> [Bool] {
        // One blob costs two flushes either way, and fsyncing just its file and folder flushes less.
        guard batch.count > 1 else { return batch.map { write($0.key, $0.bytes) } }
        return write(batch: batch, flush: .fileSystem)
    }

    /// `write(batch:)` with the flush chosen (tests exercise both); `.fileSystem` becomes `.eachFile`
    /// where `syncfs` is missing or the pieces folder cannot be opened.
    mutating func write(batch: [Blob], flush requested: Flush) -> [Bool] {
        // Opened before any byte is written, so `syncfs` reports every writeback error of the batch.
        let anchor =
            requested == .fileSystem && Syscall.syncFileSystem != nil
            ? open(piecesFolder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1
        defer { if anchor >= 0 { close(anchor) } }
        let flush: Flush = anchor >= 0 ? .fileSystem : .eachFile
        let flushFileSystem = { () -> Bool in
            guard let syncfs = Syscall.syncFileSystem else { return false }
            return syncfs(anchor) == 0
        }

        // 1. Every blob to its own temporary file (flushed one by one only without `syncfs`).
        let tag = "." + String(UInt32.random(in: 0...UInt32.max), radix: 16) + "-"
        var staged: [(index: Int, folder: String, temporary: String, target: String)] = []
        staged.reserveCapacity(batch.count)
        var madeShard = false
        for (index, blob) in batch.enumerated() {
            let hex = Self.fileName(of: blob.key)
            let folder = piecesFolder + "/" + hex.prefix(2)
            let temporary = folder + "/." + hex + tag + String(index) + ".tmp"
            var descriptor = Syscall.createExclusive(temporary)
            if descriptor < 0, errno == ENOENT {
                guard mkdir(folder, 0o700) == 0 || errno == EEXIST else { continue }
                madeShard = true
                descriptor = Syscall.createExclusive(temporary)
            }
            guard descriptor >= 0 else { continue }
            let written = Syscall.writeAll(descriptor, blob.bytes) && (flush == .fileSystem || fsync(descriptor) == 0)
            let closed = close(descriptor) == 0
            guard written, closed else {
                unlink(temporary)
                continue
            }
            staged.append((index, folder, temporary, folder + "/" + hex))
        }

        // 2. The bytes of all, before any rename can reach the disk.
        var results = [Bool](repeating: false, count: batch.count)
        if flush == .fileSystem, !staged.isEmpty, !flushFileSystem() {
            for blob in staged { unlink(blob.temporary) }
            return results
        }

        // 3. Every rename; the blob is on disk (and indexed) from here, durable after step 4.
        var touched: Set<String> = []
        for blob in staged {
            guard rename(blob.temporary, blob.target) == 0 else {
                unlink(blob.temporary)
                continue
            }
            held.insert(batch[blob.index].key)
            results[blob.index] = true
            touched.insert(blob.folder)
        }

        // 4. The renames (and the shard folders made) of all.
        switch flush {
        case .fileSystem:
            if !touched.isEmpty || madeShard, !flushFileSystem() { return results.map { _ in false } }
        case .eachFile:
            if madeShard, !Syscall.syncFolder(piecesFolder) { return results.map { _ in false } }
            var failed: Set<String> = []
            for folder in touched where !Syscall.syncFolder(folder) { failed.insert(folder) }
            if !failed.isEmpty {
                for blob in staged where failed.contains(blob.folder) { results[blob.index] = false }
            }
        }
        return results
    }

    /// Deletes `key`'s file. Not fsynced: a blob that comes back after a crash is only a stale copy.
    public mutating func remove(_ key: NodeID) {
        unlink(path(of: key))
        held.remove(key)
        if localOnly.remove(key) != nil { unlink(localFolder + "/" + Self.fileName(of: key)) }
    }

    public func isLocalOnly(_ key: NodeID) -> Bool { localOnly.contains(key) }

    /// Creates or removes `key`'s marker in `local/`, fsynced with its folder.
    public mutating func setLocalOnly(_ key: NodeID, _ local: Bool) {
        let marker = localFolder + "/" + Self.fileName(of: key)
        if local {
            guard localOnly.insert(key).inserted else { return }
            let descriptor = Syscall.create(marker)
            guard descriptor >= 0 else { return }
            _ = fsync(descriptor)
            close(descriptor)
        } else {
            guard localOnly.remove(key) != nil else { return }
            unlink(marker)
        }
        Syscall.syncFolder(localFolder)
    }

    /// Creates `key`'s tombstone file and fsyncs its folder. The tombstone holds in memory even
    /// when the file cannot be written.
    public mutating func bury(_ key: NodeID) {
        buried.insert(key)
        let descriptor = Syscall.create(tombstonesFolder + "/" + Self.fileName(of: key))
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
        Syscall.syncFolder(tombstonesFolder)
    }

    /// Removes every key of `batch` and creates their tombstones, with one flush of the file system
    /// for the batch (each file and the folder flushed where `syncfs` is missing).
    public mutating func bury(batch: [NodeID]) {
        guard batch.count > 1 else {
            for key in batch {
                remove(key)
                bury(key)
            }
            return
        }
        var created: [Int32] = []
        for key in batch {
            remove(key)
            buried.insert(key)
            let descriptor = Syscall.create(tombstonesFolder + "/" + Self.fileName(of: key))
            if descriptor >= 0 { created.append(descriptor) }
        }
        if let syncfs = Syscall.syncFileSystem, let anchor = created.first {
            _ = syncfs(anchor)
        } else {
            for descriptor in created { _ = fsync(descriptor) }
            Syscall.syncFolder(tombstonesFolder)
        }
        for descriptor in created { close(descriptor) }
    }

    /// Deletes `key`'s tombstone file and fsyncs its folder.
    public mutating func unbury(_ key: NodeID) {
        buried.remove(key)
        if unlink(tombstonesFolder + "/" + Self.fileName(of: key)) == 0 { Syscall.syncFolder(tombstonesFolder) }
    }

    public func isBuried(_ key: NodeID) -> Bool { buried.contains(key) }

    /// The file name of `key`: its 32 upper-case hex digits, as `description` gives them, built
    /// without `Hex`'s per-character appends (this runs for every read and write).
    static func fileName(of key: NodeID) -> String {
        String(unsafeUninitializedCapacity: 2 * NodeID.byteCount) { buffer in
            for index in 0..<(2 * NodeID.byteCount) {
                let word = index < 16 ? key.high : key.low
                let nibble = UInt8(truncatingIfNeeded: word >> (60 - 4 * UInt64(index % 16))) & 0x0F
                buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
            }
            return 2 * NodeID.byteCount
        }
    }

    /// The key a file is named after: exactly 32 upper-case hex digits, nothing else.
    static func key(named name: String) -> NodeID? {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0
        for byte in name.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            guard count < 2 * NodeID.byteCount else { return nil }
            if count < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
            count += 1
        }
        return count == 2 * NodeID.byteCount ? NodeID(high: high, low: low) : nil
    }

    /// Temporary files are hidden and end in `.tmp`.
    private static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(".tmp") && name != "." && name != ".."
    }

    private static func makeFolder(_ path: String, parents: Bool) throws(Failure) {
        if parents {
            var prefix = path.hasPrefix("/") ? "/" : ""
            for component in path.split(separator: "/") {
                prefix += component
                if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                    throw .cannotCreate(prefix, reason: Syscall.errorText())
                }
                prefix += "/"
            }
        } else if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw .cannotCreate(path, reason: Syscall.errorText())
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .inaccessible(path, reason: Syscall.errorText()) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .notAFolder(path) }
    }
}

/// The few POSIX file calls the storage code makes, with `EINTR` and short writes handled.
enum Syscall {
    /// Creates a new file 0600, failing when it exists. A descriptor, or -1 with `errno` set.
    static func createExclusive(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    }

    /// Creates or opens a file 0600 for writing. A descriptor, or -1 with `errno` set.
    static func create(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    }

    /// Writes all of `bytes`, retrying short writes and interruptions. False on any error.
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in writeAll(descriptor, buffer, at: nil) }
    }

    /// Writes all of `buffer` at the current position, or at `offset` when given (`pwrite`).
    static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer, at offset: UInt64?) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        var done = 0
        while done < buffer.count {
            let result: Int
            if let offset {
                guard let position = off_t(exactly: offset + UInt64(done)) else { return false }
                result = pwrite(descriptor, base + done, buffer.count - done, position)
            } else {
                result = systemWrite(descriptor, base + done, buffer.count - done)
            }
            if result < 0 {
                if errno == EINTR { continue }
                return false
            }
            // A write of 0 bytes for a non-empty buffer would loop forever: treat it as a failure.
            guard result > 0 else { return false }
            done += result
        }
        return true
    }

    /// Reads up to `count` bytes into `buffer`, stopping early only at the end of the file.
    /// The number of bytes read, or -1 with `errno` set.
    static func readFully(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let result = systemRead(descriptor, base + done, buffer.count - done)
            if result < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if result == 0 { break }
            done += result
        }
        return done
    }

    /// A whole file's bytes, or nil when it is missing, unreadable, not a regular file or larger than `limit`.
    static func readWholeFile(_ path: String, limit: Int) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= 0,
            info.st_size <= off_t(limit)
        else { return nil }
        let size = Int(info.st_size)
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let count = readFully(descriptor, into: UnsafeMutableRawBufferPointer(buffer))
            failed = count < 0
            initialized = max(0, count)
        }
        return failed ? nil : bytes
    }

    /// Fsyncs a folder so the names created, renamed or removed in it survive a crash.
    @discardableResult
    static func syncFolder(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return fsync(descriptor) == 0
    }

    /// One name in a folder and what the file system says it is (not every file system says).
    struct Entry {
        var name: String
        var type: UInt8

        /// True unless the file system says it is something other than a regular file.
        var mayBeFile: Bool { Int(type) == Int(DT_REG) || Int(type) == Int(DT_UNKNOWN) }
        /// True unless the file system says it is something other than a folder.
        var mayBeFolder: Bool { Int(type) == Int(DT_DIR) || Int(type) == Int(DT_UNKNOWN) }
    }

    /// The entries of a folder, without `.` and `..`; nil when it cannot be opened (`errno` set).
    static func entries(of path: String) -> [Entry]? {
        guard let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name),
            let typeOffset = MemoryLayout<dirent>.offset(of: \dirent.d_type),
            let handle = opendir(path)
        else { return nil }
        defer { closedir(handle) }
        var entries: [Entry] = []
        while let entry = readdir(handle) {
            // Read the fields in place: an entry may be shorter than `dirent`'s full name field.
            let base = UnsafeRawPointer(entry)
            let name = String(cString: (base + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != ".", name != ".." {
                entries.append(Entry(name: name, type: base.load(fromByteOffset: typeOffset, as: UInt8.self)))
            }
        }
        return entries
    }

    /// `syncfs(2)`, which flushes the file system holding a descriptor and (Linux 5.8+) reports the
    /// writeback errors since the descriptor was opened; nil where the C library lacks it. Looked up
    /// by name: the Glibc module declares it only under `_GNU_SOURCE`.
    static let syncFileSystem: (@convention(c) (Int32) -> Int32)? = {
        #if os(Linux)
            guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "syncfs") else { return nil }
            return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
        #else
            return nil
        #endif
    }()

    /// The text of the current `errno`.
    static func errorText() -> String { String(cString: strerror(errno)) }

    private static func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.write(descriptor, buffer, count)
        #elseif canImport(Musl)
            Musl.write(descriptor, buffer, count)
        #else
            Darwin.write(descriptor, buffer, count)
        #endif
    }

    private static func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.read(descriptor, buffer, count)
        #elseif canImport(Musl)
            Musl.read(descriptor, buffer, count)
        #else
            Darwin.read(descriptor, buffer, count)
        #endif
    }
}
