/// A `host:port` address as BitDrizzle's flags, settings, certificates and member announcements
/// write it: an IPv6 host in brackets (`[::1]:40000`), a decimal port. The one parser of such
/// text; it checks the form only (whether the host is an address of this machine, or a name that
/// resolves, is for whoever binds or connects).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: a name, an IPv4 or an IPv6 address.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[IPv6]:port`, with a port in `ports` (`1...65535` where port 0,
    /// "any free port", makes no sense, as for a peer's address).
    public init(parsing text: String, ports: ClosedRange<Int> = 0...65535) throws(HostPortError) {
        func refuse(_ reason: HostPortError.Reason) -> HostPortError { HostPortError(text: text, reason: reason) }
        guard !text.contains(where: \.isWhitespace) else { throw refuse(.whitespace) }
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw refuse(.unclosedBracket) }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw refuse(.noPort) }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw refuse(.noPort) }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !hostText.contains(":") else { throw refuse(.unbracketedIPv6) }
        }
        guard !hostText.isEmpty else { throw refuse(.emptyHost) }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw refuse(.notAPort(String(portText)))
        }
        guard let port = Int(portText), ports.contains(port) else { throw refuse(.portOutOfRange(ports)) }
        host = String(hostText)
        self.port = port
    }

    /// `host:port`, the host in brackets when it holds a colon (IPv6).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a text is not `host:port`: one line that quotes it and says what is wrong.
public struct HostPortError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case whitespace
        case noPort
        case emptyHost
        /// An IPv6 address written without brackets: its colons hide where the port starts.
        case unbracketedIPv6
        case unclosedBracket
        case notAPort(String)
        case portOutOfRange(ClosedRange<Int>)
    }

    /// The text as given.
    public var text: String
    public var reason: Reason

    public var description: String {
        let why: String =
            switch reason {
            case .whitespace: "it contains a space"
            case .noPort: "no ':' before a port number"
            case .emptyHost: "the host before ':' is empty"
            case .unbracketedIPv6:
                text.lastIndex(of: ":").map { "an IPv6 address goes in brackets, as [\(text[..<$0])]\(text[$0...])" }
                    ?? "an IPv6 address goes in brackets"
            case .unclosedBracket: "'[' without its ']'"
            case .notAPort(let port): "'\(port)' is not a port number"
            case .portOutOfRange(let ports): "the port must be from \(ports.lowerBound) to \(ports.upperBound)"
            }
        return "'\(text)' is not host:port: \(why)"
    }
}
