import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard output and standard error for the executables, written so that a reader going away
/// never traps the process.
///
/// Foundation's `FileHandle.write(_:)` raises on `EPIPE` (`drizzle events | head -1`), and
/// `print` buffers output a script waits for (`drizzle cluster > file`). Every line the tools
/// print goes through `write(_:to:)` instead: one `write(2)` loop, unbuffered, retried on
/// `EINTR`. When the reader of either stream has gone away (`EPIPE`), the first such write calls
/// the handler set with `onReaderGone(_:)` (once), and every later write is dropped silently —
/// where a Unix tool would die of `SIGPIPE`, a command that runs nodes lets them leave the
/// cluster gracefully and exits with status 0.
public enum StandardStreams {
    /// Which stream a write goes to.
    public enum Stream: Sendable {
        case output
        case error

        var descriptor: Int32 { self == .output ? STDOUT_FILENO : STDERR_FILENO }
    }

    private struct State {
        var readerGone = false
        var handler: @Sendable () -> Void = {}
        var redirect: (@Sendable (String, Stream) -> Void)?
    }

    private static let state = Mutex(State())

    /// Call first thing in `main`: ignores `SIGPIPE` (a write to a closed pipe then fails with
    /// `EPIPE` instead of killing the process), and opens `/dev/null` on any of descriptors 0, 1
    /// and 2 that is closed (`drizzle sim … 2>&-`), so that a file the process opens later never
    /// takes descriptor 2 and receives its progress lines.
    public static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(descriptor, F_GETFD) == -1 {
            let null = open("/dev/null", descriptor == STDIN_FILENO ? O_RDONLY : O_WRONLY)
            if null >= 0, null != descriptor {
                dup2(null, descriptor)
                close(null)
            }
        }
    }

    /// Sets what happens the first time a write finds its reader gone. By default nothing: later
    /// output is dropped and the command finishes its work (a simulation still writes its `--out`
    /// files, a key is still saved) and exits with status 0. A command that runs until stopped
    /// (an agent, the prompt, `drizzle events`) makes it a stop request (`StopRequests`).
    /// A reader that left before the handler was set calls it at once.
    public static func onReaderGone(_ handler: @escaping @Sendable () -> Void) {
        let gone = state.withLock { state -> Bool in
            state.handler = handler
            return state.readerGone
        }
        if gone { handler() }
    }

    /// True once a write found standard output's or standard error's reader gone.
    public static var isReaderGone: Bool { state.withLock { $0.readerGone } }

    /// Sends every later `write(_:to:)` to `redirect` instead (`nil`: back to the streams). The
    /// prompt's line editor uses it to print lines above the line being typed and draw it again;
    /// it writes them itself with `writeDirectly(_:to:)`.
    public static func redirect(_ redirect: (@Sendable (String, Stream) -> Void)?) {
        state.withLock { $0.redirect = redirect }
    }

    /// Records that a reader went away without a write noticing it (`StopRequests` watches the
    /// streams): later writes are dropped, and the handler runs once.
    public static func readerWentAway() {
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.readerGone else { return nil }
            state.readerGone = true
            return state.handler
        }
        handler?()
    }

    /// Writes `text` whole, unbuffered. Never traps: a stream whose reader is gone drops it.
    public static func write(_ text: String, to stream: Stream = .output) {
        let (gone, redirect) = state.withLock { ($0.readerGone, $0.redirect) }
        guard !gone else { return }
        if let redirect { return redirect(text, stream) }
        writeDirectly(text, to: stream)
    }

    /// `write(_:to:)` past any redirection.
    public static func writeDirectly(_ text: String, to stream: Stream) {
        guard !state.withLock({ $0.readerGone }) else { return }
        var bytes = Array(text.utf8)
        let complete = bytes.withUnsafeMutableBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                guard let base = buffer.baseAddress else { return true }
                let written = systemWrite(stream.descriptor, base + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR || errno == EAGAIN {
                    continue
                } else {
                    // EPIPE: the reader went away. Anything else (EBADF, EIO, ENOSPC) leaves the
                    // line nowhere to go either; the process carries on without its output.
                    return errno != EPIPE
                }
            }
            return true
        }
        if !complete { readerWentAway() }
    }

    /// Writes `line` and a newline to standard output.
    public static func say(_ line: String) { write(line + "\n", to: .output) }

    /// Writes `line` and a newline to standard error.
    public static func note(_ line: String) { write(line + "\n", to: .error) }
}

/// Standard error as a `TextOutputStream`, for swift-log's `StreamLogHandler`: log lines go
/// through `StandardStreams` too, so a closed log pipe ends an agent as a closed output does.
public struct StandardErrorStream: TextOutputStream, Sendable {
    public init() {}

    public mutating func write(_ string: String) { StandardStreams.write(string, to: .error) }
}

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif
