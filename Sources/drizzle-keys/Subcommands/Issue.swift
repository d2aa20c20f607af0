import ArgumentParser
import DrizzleCore
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys issue <name>`: the CA signs a node certificate.
    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a node certificate (and, without --public-key, its key pair).",
            discussion: """
                Writes nodes/<name>.key (0600) and nodes/<name>.crt, and records the certificate in \
                issued/<serial>.crt. With --public-key, signs that key and writes no secret key.
                """)

        @OptionGroup var options: KeyFolderOptions

        @Argument(help: "The node's name: 1 to 64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit")
        var name: String

        @Option(help: "How long the certificate is valid (cut to the CA's expiry): e.g. 8760h, 90d, 1h30m.")
        var duration = "8760h"

        @Option(help: ArgumentHelp("Addresses the node may send from, comma separated.", valueName: "host:port,…"))
        var addresses: String?

        @Option(
            name: .customLong("public-key"),
            help: ArgumentHelp(
                "Sign this public key (from `drizzle-keys keygen`) instead of generating one.", valueName: "file"))
        var publicKeyPath: String?

        @Flag(help: "Overwrite the node's existing key and certificate.")
        var force = false

        func run() throws {
            let seconds = try orExit { try Lifetime(parsing: duration).seconds }
            let addressList = try orExit { try AddressList(parsing: addresses ?? "").addresses }
            var publicKey: PublicKey?
            if let publicKeyPath { publicKey = try orExit { try KeyFiles.loadPublicKey(publicKeyPath) } }
            let store = options.store
            let now = unixNow()
            let issued = try orExit {
                try store.issue(
                    name: name, durationSeconds: seconds, addresses: addressList, publicKey: publicKey, force: force,
                    now: now)
            }
            let certificate = issued.certificate
            say("Issued a certificate for \(certificate.name)")
            var fields: [(String, String)] = [
                ("name", certificate.name),
                ("serial", KeyStore.serialText(certificate.serial)),
                ("node id", issued.nodeID.description),
                ("not after", isoText(certificate.notAfter)),
            ]
            if !certificate.addresses.isEmpty {
                fields.append(("addresses", certificate.addresses.joined(separator: ",")))
            }
            if let keyPath = issued.keyPath {
                fields.append(("secret key", "\(keyPath) (mode 0600: copy to the node only)"))
            } else if let publicKeyPath {
                fields.append(("secret key", "none written (signed the public key in \(publicKeyPath))"))
            }
            fields.append(("certificate", issued.certificatePath))
            say(fieldsText(fields))
            if issued.clampedToAuthority {
                say("Note: the duration \(duration) was cut to the CA's expiry, \(isoText(certificate.notAfter)).")
            }
        }
    }
}
