import ArgumentParser
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys revoke <name|serial>`: adds certificates to the signed revocation list.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one certificate (by serial) or every certificate and key of a node (by name).",
            discussion: """
                Writes revoked.crl with a higher version; give it to any node and it spreads to all. \
                Revoking what the list already holds changes nothing and exits 0.
                """)

        @OptionGroup var options: KeyFolderOptions

        @Argument(help: ArgumentHelp("A serial (16 hex digits) or a node name.", valueName: "name|serial"))
        var target: String

        func run() throws {
            let store = options.store
            let now = unixNow()
            let revocation = try orExit { try store.revoke(target, now: now) }
            let list = revocation.list
            for certificate in revocation.revoked {
                say("Revoked \(certificate.name) serial \(KeyStore.serialText(certificate.serial))")
            }
            for certificate in revocation.alreadyRevoked {
                say("Already revoked: \(certificate.name) serial \(KeyStore.serialText(certificate.serial))")
            }
            guard revocation.changed else {
                say("Nothing changed: \(store.revocationListPath) stays at version \(list.version).")
                return
            }
            say(
                fieldsText([
                    ("revocation list", "\(store.revocationListPath) version \(list.version)"),
                    ("revoked", "\(counted(list.serials.count, "serial")), \(counted(list.publicKeys.count, "key"))"),
                ]))
            say("Give \(store.revocationListPath) to any node; it spreads to the others.")
        }
    }
}
