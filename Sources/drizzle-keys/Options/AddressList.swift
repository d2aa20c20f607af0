import DrizzleCore

/// The `--addresses host:port,…` list of `issue`: each entry non-empty, with a port from 1 to
/// 65535, at most `Certificate.maximumAddressCount` entries of at most 255 bytes (what a
/// certificate can hold).
struct AddressList {
    let addresses: [String]

    /// Why an address list was refused.
    struct ParseError: Error, CustomStringConvertible {
        let reason: String
        var description: String { "invalid --addresses: \(reason) (use host:port,host:port)" }
    }

    /// Parses a comma-separated list; an empty text is an empty list (any address).
    init(parsing text: String) throws(ParseError) {
        guard !text.isEmpty else {
            addresses = []
            return
        }
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0).trimmingSpaces()
        }
        guard entries.count <= Certificate.maximumAddressCount else {
            throw ParseError(reason: "\(entries.count) addresses, at most \(Certificate.maximumAddressCount)")
        }
        for entry in entries {
            guard !entry.isEmpty else { throw ParseError(reason: "an empty entry") }
            guard entry.utf8.count <= 255 else { throw ParseError(reason: "an address longer than 255 bytes") }
            do {
                _ = try HostPort(parsing: entry, ports: 1...65_535)
            } catch {
                throw ParseError(reason: error.description)
            }
        }
        addresses = entries
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
