import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading and writing key material on disk: atomic writes (temporary file, fsync, rename),
/// secret files created 0600 and refused when group or others can read them.
public enum SecureFile {
    /// Why a file could not be read or written. Each description is one line naming the file and what to do.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case notFound(String)
        case exists(String)
        case insecureMode(String, mode: UInt32)
        case unreadable(String, reason: String)
        case unwritable(String, reason: String)

        public var description: String {
            switch self {
            case .notFound(let path): "\(path): no such file"
            case .exists(let path): "\(path) already exists (pass --force to overwrite it)"
            case .insecureMode(let path, let mode):
                "\(path) is readable by group or others (mode \(String(mode & 0o777, radix: 8))); run: chmod 600 \(path)"
            case .unreadable(let path, let reason): "\(path): cannot read (\(reason))"
            case .unwritable(let path, let reason): "\(path): cannot write (\(reason))"
            }
        }
    }

    /// True when something exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Reads a whole text file. With `secret`, refuses a file that group or others may read.
    public static func read(_ path: String, secret: Bool = false) throws(Failure) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw .notFound(path) }
            throw .unreadable(path, reason: errorText())
        }
        if secret, info.st_mode & 0o077 != 0 { throw .insecureMode(path, mode: UInt32(info.st_mode)) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path, reason: "permission denied or not a regular file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path, reason: "not UTF-8 text")
        }
        return text
    }

    /// Writes `text` to `path` atomically: a temporary file in the same folder with `mode`,
    /// fsync, then rename over the target (refused when the target exists and `replace` is false).
    public static func write(_ text: String, to path: String, mode: UInt32, replace: Bool) throws(Failure) {
        if !replace, exists(path) { throw .exists(path) }
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else { throw .unwritable(path, reason: errorText()) }
        // umask may have narrowed the mode; set it exactly.
        _ = fchmod(descriptor, mode_t(mode))
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = errorText()
                close(descriptor)
                unlink(temporary)
                throw .unwritable(path, reason: reason)
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let reason = errorText()
            close(descriptor)
            unlink(temporary)
            throw .unwritable(path, reason: reason)
        }
        close(descriptor)
        if !replace {
            // link() fails if the target appeared meanwhile: never overwrite without being asked.
            guard link(temporary, path) == 0 else {
                let failure: Failure = errno == EEXIST ? .exists(path) : .unwritable(path, reason: errorText())
                unlink(temporary)
                throw failure
            }
            unlink(temporary)
        } else if rename(temporary, path) != 0 {
            let reason = errorText()
            unlink(temporary)
            throw .unwritable(path, reason: reason)
        }
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Creates a folder (and its parents) with `mode` when it does not exist.
    public static func makeDirectory(_ path: String, mode: UInt32 = 0o700) throws(Failure) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw .unwritable(path, reason: "cannot create folder")
        }
    }

    /// Moves a file within one file system.
    public static func move(_ source: String, to destination: String) throws(Failure) {
        guard rename(source, destination) == 0 else { throw .unwritable(destination, reason: errorText()) }
    }

    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.write(descriptor, buffer, count)
        #elseif canImport(Musl)
            Musl.write(descriptor, buffer, count)
        #else
            Darwin.write(descriptor, buffer, count)
        #endif
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
