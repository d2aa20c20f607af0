import ArgumentParser
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys rotate <name>`: a node gets a new key and certificate; the old one stays valid
    /// until revoked.
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a node's key and certificate; the old serial stays valid until revoked.",
            discussion: """
                The node keeps its id: the new certificate names it (a running node switches keys \
                without leaving the cluster). Once every node has the new certificate, revoke the old \
                serial.
                """)

        @OptionGroup var options: KeyFolderOptions

        @Argument(help: "The node's name.")
        var name: String

        @Option(help: "How long the new certificate is valid: e.g. 8760h, 90d, 1h30m.")
        var duration = "8760h"

        func run() throws {
            let seconds = try orExit { try Lifetime(parsing: duration).seconds }
            let store = options.store
            let now = unixNow()
            let (issued, previous) = try orExit { try store.rotate(name: name, durationSeconds: seconds, now: now) }
            let certificate = issued.certificate
            let oldSerial = KeyStore.serialText(previous.serial)
            say("Rotated \(certificate.name)")
            var fields: [(String, String)] = [
                ("new serial", KeyStore.serialText(certificate.serial)),
                ("node id", issued.nodeID.description),
                ("not after", isoText(certificate.notAfter)),
            ]
            if let keyPath = issued.keyPath {
                fields.append(("secret key", "\(keyPath) (mode 0600: copy to the node only)"))
            }
            fields += [
                ("certificate", issued.certificatePath),
                ("old serial", "\(oldSerial) (still valid until revoked)"),
            ]
            say(fieldsText(fields))
            if issued.clampedToAuthority {
                say("Note: the duration \(duration) was cut to the CA's expiry, \(isoText(certificate.notAfter)).")
            }
            say("Once every node has the new certificate, run: drizzle-keys revoke \(oldSerial)")
        }
    }
}
