import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a running command is asked to stop: a signal, or its output's reader going away.
public enum StopRequest: Sendable, Equatable {
    /// SIGINT (Ctrl-C at a terminal).
    case interrupt
    /// SIGTERM.
    case terminate
    /// Standard output's or standard error's reader went away (`drizzle events | head -1`).
    case readerGone
}

/// The process's stop requests as one stream: SIGINT and SIGTERM (caught, so the default action of
/// killing the process at once never runs) and a closed output (`StandardStreams`). A command that
/// runs nodes waits on it, then lets them leave the cluster before it exits.
public final class StopRequests: Sendable {
    /// The process's one instance; `install()` starts catching the signals.
    public static let shared = StopRequests()

    private let stream: AsyncStream<StopRequest>
    private let sink: AsyncStream<StopRequest>.Continuation
    private let sources = Mutex<[any DispatchSourceSignal]>([])

    private init() {
        (stream, sink) = AsyncStream<StopRequest>.makeStream(bufferingPolicy: .bufferingNewest(32))
    }

    /// Catches SIGINT and SIGTERM from now on, and turns a closed output into a request too.
    /// Calling it again does nothing.
    public func install() {
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            for (number, request) in [(SIGINT, StopRequest.interrupt), (SIGTERM, .terminate)] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                let sink = self.sink
                source.setEventHandler { sink.yield(request) }
                source.resume()
                sources.append(source)
            }
        }
        let sink = self.sink
        StandardStreams.onReaderGone { sink.yield(.readerGone) }
        Self.watchReaders()
    }

    /// A process that has nothing more to say would never learn from a write that its reader left
    /// (`drizzle agent … 2>&1 | head -1` after the first lines): a thread waits on standard output
    /// and error, where they are pipes or sockets, for the error condition the kernel reports on a
    /// pipe without readers.
    private static func watchReaders() {
        let watched = [STDOUT_FILENO, STDERR_FILENO].filter { descriptor in
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { return false }
            let kind = info.st_mode & S_IFMT
            return kind == S_IFIFO || kind == S_IFSOCK
        }
        guard !watched.isEmpty else { return }
        let thread = Thread {
            var descriptors = watched.map { pollfd(fd: $0, events: 0, revents: 0) }
            while true {
                let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
                if ready < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if descriptors.contains(where: { $0.revents & Int16(POLLERR | POLLHUP) != 0 }) {
                    StandardStreams.readerWentAway()
                    return
                }
            }
        }
        thread.start()
    }

    /// Asks for a stop from inside the process (as if the signal had come).
    public func request(_ request: StopRequest) { sink.yield(request) }

    /// Every request, in order. One consumer at a time.
    public var requests: AsyncStream<StopRequest> { stream }

    /// Returns at the first request.
    public func next() async -> StopRequest {
        for await request in stream { return request }
        return .terminate
    }
}
