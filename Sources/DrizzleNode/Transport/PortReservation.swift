import DrizzleCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A node's UDP socket and TCP listener, bound to their port before the node starts.
///
/// Multi mode runs 24 nodes on ports 40000 and up, which lie inside Linux's ephemeral range
/// (32768–60999): once the first nodes talk, their outgoing TCP connections take local ports from
/// that range, and one of them could take the port a later node is about to bind. Binding every
/// node's sockets first (`reserve(host:port:)`) and only then starting the nodes keeps the
/// original's numbering and starts every node every time: the kernel never gives a bound port to
/// an outgoing connection.
public final class PortReservation: Sendable {
    public let host: String
    public let port: Int
    /// The bound UDP socket; the node's datagram channel takes it over.
    let datagram: Int32
    /// The bound, listening TCP socket; the node's server channel takes it over.
    let stream: Int32

    private init(host: String, port: Int, datagram: Int32, stream: Int32) {
        self.host = host
        self.port = port
        self.datagram = datagram
        self.stream = stream
    }

    deinit {
        // Closing a descriptor a channel took over would close the channel's socket: the node
        // clears `taken` when it does (see `NodeHost`). Unused reservations are closed here.
        if !taken.withLock({ $0 }) {
            close(datagram)
            close(stream)
        }
    }

    private let taken = Mutex(false)

    /// Marks the sockets as handed to a node (which then closes them when it stops).
    func take() -> (datagram: Int32, stream: Int32)? {
        let first = taken.withLock { taken -> Bool in
            defer { taken = true }
            return !taken
        }
        return first ? (datagram, stream) : nil
    }

    /// Binds a UDP socket and a listening TCP socket on `host:port` (both with `SO_REUSEADDR`, as
    /// the node binds its own).
    public static func reserve(host: String, port: Int) throws(NetworkError) -> PortReservation {
        let datagram = try bind(host: host, port: port, type: SOCK_DGRAM)
        let stream: Int32
        do {
            stream = try bind(host: host, port: port, type: SOCK_STREAM)
        } catch {
            close(datagram)
            throw error
        }
        guard listen(stream, 256) == 0 else {
            let failure = failure(host, port, cause: NetworkError.cause(errno: errno))
            close(datagram)
            close(stream)
            throw failure
        }
        return PortReservation(host: host, port: port, datagram: datagram, stream: stream)
    }

    private static func failure(_ host: String, _ port: Int, cause: NetworkError.Cause) -> NetworkError {
        NetworkError(purpose: .peers, endpoint: .address(HostPort(host: host, port: port)), cause: cause)
    }

    private static func bind(host: String, port: Int, type: __socket_type) throws(NetworkError) -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE
        hints.ai_socktype = Int32(type.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let info = found else {
            throw failure(host, port, cause: .hostNotFound)
        }
        defer { freeaddrinfo(info) }
        let descriptor = socket(info.pointee.ai_family, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw failure(host, port, cause: NetworkError.cause(errno: errno)) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.bind(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let failure = failure(host, port, cause: NetworkError.cause(errno: errno))
            close(descriptor)
            throw failure
        }
        return descriptor
    }
}
