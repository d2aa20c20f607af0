import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps a node's name in a data folder to one running node: an exclusive `flock(2)` on
/// `<data folder>/<name>.lock`, taken before the node binds a socket or replaces its control socket
/// (`<data folder>/<name>.sock`) and its store (`<data folder>/<name>/`), held until it stops.
///
/// The kernel drops the lock with the process however it ends (a crash, `kill -9`), so nothing
/// stale is ever guessed at or cleaned up. The file stays and names the pid of its latest holder,
/// which only the error message reads. `flock` locks belong to an open file, not to a process, so
/// two nodes of one name in one process exclude each other too; the descriptor is close-on-exec,
/// so event handlers the node runs never inherit the lock.
public final class NodeLock: Sendable {
    /// Why a node may not take its lock.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// Another node of this name runs on this data folder (in this process or another).
        case alreadyRunning(name: String, pid: Int32?, lockFile: String)
        /// The lock file could not be created or locked.
        case unusable(lockFile: String, reason: String)

        public var description: String {
            switch self {
            case .alreadyRunning(let name, let pid, let lockFile):
                "\(name) is already running in this data folder (\(pid.map { "pid \($0), " } ?? "")lock \(lockFile)); "
                    + "stop it, or pick another name or data folder (--name, --data-dir)"
            case .unusable(let lockFile, let reason):
                "cannot lock \(lockFile) (\(reason)): check the data folder's permissions or set data.dir to another folder"
            }
        }
    }

    /// The lock file.
    public let path: String
    /// The locked descriptor; -1 once released.
    private let descriptor: Mutex<Int32>

    /// Takes the lock of `name` in `dataDirectory` (creating the folder 0700 when missing) and
    /// writes this process's id into it.
    public static func acquire(name: String, in dataDirectory: String) throws(Failure) -> NodeLock {
        var folder = dataDirectory
        while folder.count > 1, folder.hasSuffix("/") { folder.removeLast() }
        let path = (folder.isEmpty ? "." : folder) + "/" + name + ".lock"
        try makeFolder(folder.isEmpty ? "." : folder, lockFile: path)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unusable(lockFile: path, reason: Syscall.errorText()) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let failure: Failure =
                errno == EWOULDBLOCK
                ? .alreadyRunning(name: name, pid: holder(descriptor), lockFile: path)
                : .unusable(lockFile: path, reason: Syscall.errorText())
            close(descriptor)
            throw failure
        }
        // Informational only: who holds the lock, for the message a second node prints.
        if ftruncate(descriptor, 0) == 0 { _ = Syscall.writeAll(descriptor, Array("\(getpid())\n".utf8)) }
        return NodeLock(path: path, descriptor: descriptor)
    }

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    /// Lets the lock go (the file stays). Calling it again does nothing.
    public func release() {
        let held = descriptor.withLock { held in
            defer { held = -1 }
            return held
        }
        if held >= 0 { close(held) }
    }

    deinit { release() }

    /// The pid the holder wrote into the lock file, if it has written one yet.
    private static func holder(_ descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes.prefix(count), as: UTF8.self).split(separator: "\n").first
        return text.flatMap { Int32($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    private static func makeFolder(_ folder: String, lockFile: String) throws(Failure) {
        var prefix = folder.hasPrefix("/") ? "/" : ""
        for component in folder.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw .unusable(lockFile: lockFile, reason: Syscall.errorText())
            }
            prefix += "/"
        }
    }
}
