import ArgumentParser
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys list`: every certificate the key folder has issued, with its standing.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List issued certificates with their status.",
            discussion: """
                Status: valid, expiring (within 30 days), expired, revoked, untrusted (its CA was \
                retired), not-yet-valid, bad-signature. A file in issued/ that is not a readable \
                certificate is skipped, with a warning on standard error.
                """)

        @OptionGroup var options: KeyFolderOptions

        @Flag(help: "Print a JSON array of {name, serial, node_id, not_after, status}.")
        var json = false

        /// One row, as `--json` prints it.
        private struct Row: Encodable {
            var name: String
            var serial: String
            var nodeID: String
            var notAfter: String
            var status: String

            enum CodingKeys: String, CodingKey {
                case name, serial, status
                case nodeID = "node_id"
                case notAfter = "not_after"
            }
        }

        func run() throws {
            let store = options.store
            let now = unixNow()
            let inventory = try orExit { try store.inventory(now: now) }
            if let first = inventory.unreadable.first {
                let others = inventory.unreadable.count - 1
                let more = others == 0 ? "" : " (and \(counted(others, "other file")) there)"
                printWarning("skipped \(first)\(more); list shows the certificates it could read")
            }
            // Grouped by name; within a name, oldest first (the library's order).
            let entries = inventory.entries.enumerated().sorted {
                ($0.element.certificate.name, $0.offset) < ($1.element.certificate.name, $1.offset)
            }.map(\.element)
            let rows = entries.map { entry in
                Row(
                    name: entry.certificate.name, serial: KeyStore.serialText(entry.certificate.serial),
                    nodeID: entry.nodeID.description, notAfter: isoText(entry.certificate.notAfter),
                    status: entry.status.rawValue)
            }
            if json {
                say(try orExit { try jsonText(rows) })
            } else if rows.isEmpty {
                say("No certificates issued yet in \(store.directory) (run `drizzle-keys issue <name>`).")
            } else {
                say(
                    tableText(
                        header: ["NAME", "SERIAL", "NODE ID", "NOT AFTER", "STATUS"],
                        rows: rows.map { [$0.name, $0.serial, $0.nodeID, $0.notAfter, $0.status] }))
            }
        }
    }
}
