/// Upper-case hexadecimal text for byte strings, as the original BitDrizzle printed its MD5 ids.
public enum Hex {
    private static let digits: [Character] = Array("0123456789ABCDEF")

    /// Renders `bytes` as upper-case hexadecimal, two digits a byte.
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = ""
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// Parses hexadecimal text (either case); `nil` when the text has an odd length or a non-hex digit.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let scalars = Array(text.utf8)
        guard scalars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count / 2)
        var index = 0
        while index < scalars.count {
            guard let high = nibble(scalars[index]), let low = nibble(scalars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ scalar: UInt8) -> UInt8? {
        switch scalar {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): scalar - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): scalar - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): scalar - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
