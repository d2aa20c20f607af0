public import DrizzleCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A socket that could not be opened or reached, said as one plain line a user can act on.
///
/// SwiftNIO's errors (`IOError` with its errno, `SocketAddressError`, `NIOConnectionError`,
/// `ChannelError`) are mapped to a `Cause` once, where the socket is opened; `description`
/// renders the line, naming the address and the setting to change. Nothing of NIO's own text
/// (function names, errno numbers) reaches the user.
public struct NetworkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What the socket was for: it decides the wording and which setting the hint names.
    public enum Purpose: Sendable, Hashable {
        /// A node's gossip port, UDP and TCP (`--bind`; the prompt's `node.peer_base_port`).
        case peers
        /// The Prometheus endpoint (`--metrics`, `metrics.listen`).
        case metrics
        /// Opening a node's control socket.
        case controlSocket
        /// Connecting to a node's control socket (`drizzle attach`, `publish`, `events`, `LL`).
        case controlClient
    }

    /// Why the socket failed, one case per thing a user would do differently.
    public enum Cause: Sendable, Hashable {
        /// `EADDRINUSE`: another socket holds the port (or the path).
        case addressInUse
        /// `EADDRNOTAVAIL`: the host is not an address of this machine.
        case addressNotAvailable
        /// `EACCES`/`EPERM`: a port below 1024 without privileges, or a file the user may not use.
        case permissionDenied
        /// The host name does not resolve.
        case hostNotFound
        /// `ECONNREFUSED`: nothing listens there.
        case connectionRefused
        /// `ENOENT`: no socket file at the path.
        case noSuchSocket
        case timedOut
        /// The path does not fit a Unix socket address.
        case pathTooLong
        /// Something other than a socket is at the path.
        case notASocket
        /// Anything else, in the system's words (`strerror`) or the error's own.
        case other(String)
    }

    /// Where: a host and port, or a Unix socket's path.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case address(HostPort)
        case path(String)

        public var description: String {
            switch self {
            case .address(let address): address.description
            case .path(let path): path
            }
        }
    }

    public var purpose: Purpose
    public var endpoint: Endpoint
    public var cause: Cause

    public init(purpose: Purpose, endpoint: Endpoint, cause: Cause) {
        self.purpose = purpose
        self.endpoint = endpoint
        self.cause = cause
    }

    /// Maps what SwiftNIO (or the system) threw while binding or connecting at `endpoint`.
    public init(_ error: any Error, purpose: Purpose, endpoint: Endpoint) {
        self.init(purpose: purpose, endpoint: endpoint, cause: Self.cause(of: error))
    }

    /// The cause behind one of SwiftNIO's errors.
    public static func cause(of error: any Error) -> Cause {
        switch error {
        case let known as NetworkError:
            return known.cause
        case let io as IOError:
            return cause(errno: io.errnoCode)
        case is SocketAddressError.UnknownHost:
            return .hostNotFound
        case let address as SocketAddressError:
            switch address {
            case .unixDomainSocketPathTooLong: return .pathTooLong
            case .failedToParseIPString(let text): return .other("'\(text)' is not an IP address")
            case .unsupported: return .other("this kind of address is not supported here")
            default: return .hostNotFound  // the older `unknown(host:port:)`
            }
        case let connection as NIOConnectionError:
            if let first = connection.connectionErrors.first { return cause(of: first.error) }
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return .hostNotFound }
            return .other("no address to connect to")
        case let channel as ChannelError:
            if case .connectTimeout = channel { return .timedOut }
            return .other(channel.description.lowercased())
        case is UnixDomainSocketPathWrongType:
            return .notASocket
        default:
            return .other(String(describing: error))
        }
    }

    /// The cause an errno stands for.
    public static func cause(errno code: Int32) -> Cause {
        switch code {
        case EADDRINUSE: .addressInUse
        case EADDRNOTAVAIL: .addressNotAvailable
        case EACCES, EPERM: .permissionDenied
        case ECONNREFUSED: .connectionRefused
        case ENOENT: .noSuchSocket
        case ETIMEDOUT: .timedOut
        case ENAMETOOLONG: .pathTooLong
        case ENOTSOCK: .notASocket
        default: .other(strerror(code).map { String(cString: $0).lowercased() } ?? "error \(code)")
        }
    }

    public var description: String {
        switch (endpoint, purpose) {
        case (.address(let address), .peers), (.address(let address), .metrics):
            listening(on: address)
        case (.path(let path), .controlClient):
            connecting(to: path)
        case (.path(let path), _):
            opening(path)
        case (.address(let address), .controlSocket), (.address(let address), .controlClient):
            "cannot reach \(address): \(causeText)"
        }
    }

    /// The flag that sets the address, and the hint for a port that is taken.
    private var setting: (flag: String, anotherPort: String) {
        purpose == .metrics
            ? ("--metrics", "pick another --metrics port")
            : ("--bind", "pick another port (--bind, or node.peer_base_port for the prompt)")
    }

    private func listening(on address: HostPort) -> String {
        let (flag, anotherPort) = setting
        switch cause {
        case .addressInUse:
            return "port \(address.port) on \(address.host) is already in use (another node or program); \(anotherPort)"
        case .addressNotAvailable:
            return "\(address.host) is not an address of this machine, so nothing can listen on it; "
                + "use one of its addresses, or 0.0.0.0 for all (\(flag))"
        case .permissionDenied where (1..<1024).contains(address.port):
            return "port \(address.port) is below 1024, where only root may listen; pick a port from 1024 up (\(flag))"
        case .hostNotFound:
            return "host '\(address.host)' not found: use an IP address or a name this machine resolves (\(flag))"
        default:
            return "cannot listen on \(address): \(causeText)"
        }
    }

    private func opening(_ path: String) -> String {
        switch cause {
        case .pathTooLong: "the control socket path \(path) is too long for a Unix socket; set a shorter data.dir"
        case .notASocket: "cannot open the control socket: \(path) is a file, not a socket; move it away"
        default: "cannot open the control socket \(path): \(causeText)"
        }
    }

    private func connecting(to path: String) -> String {
        switch cause {
        case .noSuchSocket: "no control socket at \(path): is the node running, with this data folder?"
        case .connectionRefused: "nothing answers on the control socket \(path): its node has stopped (the file is left over)"
        case .permissionDenied: "the control socket \(path) belongs to another user (it is owner-only)"
        case .timedOut: "the control socket \(path) did not answer in time"
        case .pathTooLong: "the path \(path) is too long for a Unix socket; use a shorter one"
        case .notASocket: "\(path) is not a socket"
        default: "cannot connect to the control socket \(path): \(causeText)"
        }
    }

    /// The cause in a few lower-case words, for the lines without a wording of their own.
    private var causeText: String {
        switch cause {
        case .addressInUse: "the address is already in use"
        case .addressNotAvailable: "the address is not one of this machine's"
        case .permissionDenied: "permission denied"
        case .hostNotFound: "the host is not found"
        case .connectionRefused: "connection refused"
        case .noSuchSocket: "no such file"
        case .timedOut: "timed out"
        case .pathTooLong: "the path is too long for a Unix socket"
        case .notASocket: "not a socket"
        case .other(let text): text
        }
    }
}

extension HostPort {
    /// True when the host is an IP address, not a name. A peer's address must be one: seeds and
    /// announced addresses are used as they are written, never looked up.
    public var isIPAddress: Bool { (try? SocketAddress(ipAddress: host, port: port)) != nil }
}
