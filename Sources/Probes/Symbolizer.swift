import ArchbenchCore
import Foundation

/// The function symbols of one ELF file (.symtab and .dynsym) and its loadable segments, to turn a
/// file offset into `function+0xoff`.
///
/// Read by hand rather than through libelf, although libbpf links it: only the section headers, two
/// symbol tables and the PT_LOAD program headers are needed, each read bounds-checked straight from
/// the mapped file, while libelf's API (Elf handles, GElf copies of every symbol, Elf_Data walks)
/// would need a C shim of its own and a second owner of the file for the same lookups.
struct ELFSymbols {
    struct Segment { let fileOffset, vaddr, size: UInt64 }
    struct Symbol { let start, size: UInt64; let name: String }

    let segments: [Segment]
    /// Sorted by start; one per address (.symtab's name before .dynsym's, a public name before an alias
    /// starting with "_").
    let symbols: [Symbol]
    /// Every function name's address (aliases included).
    let addresses: [String: UInt64]

    /// Nil when the file cannot be read or is not a little-endian ELF64.
    init?(path: String) {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return nil }
        guard let parsed = data.withUnsafeBytes({ ELFSymbols.parse($0) }) else { return nil }
        self = parsed
    }

    init(segments: [Segment], symbols: [Symbol], addresses: [String: UInt64] = [:]) {
        self.segments = segments
        self.symbols = symbols
        self.addresses = addresses
    }

    private static let functionTypes: Set<UInt8> = [2, 10]  // STT_FUNC, STT_GNU_IFUNC

    private static func parse(_ bytes: UnsafeRawBufferPointer) -> ELFSymbols? {
        func read<T: FixedWidthInteger>(_ offset: UInt64, _: T.Type) -> T? {
            guard offset <= UInt64(bytes.count), UInt64(bytes.count) - offset >= UInt64(MemoryLayout<T>.size) else { return nil }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: Int(offset), as: T.self))
        }
        // e_ident: \x7fELF, ELFCLASS64, ELFDATA2LSB.
        guard bytes.count >= 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46,
              bytes[4] == 2, bytes[5] == 1,
              let phoff = read(0x20, UInt64.self), let shoff = read(0x28, UInt64.self),
              let phentsize = read(0x36, UInt16.self), let phnum = read(0x38, UInt16.self),
              let shentsize = read(0x3a, UInt16.self), let shnum = read(0x3c, UInt16.self) else { return nil }

        var segments: [Segment] = []
        for index in 0..<UInt64(phnum) {
            let header = phoff + index * UInt64(phentsize)
            guard read(header, UInt32.self) == 1,  // PT_LOAD
                  let offset = read(header + 8, UInt64.self), let vaddr = read(header + 16, UInt64.self),
                  let size = read(header + 32, UInt64.self) else { continue }
            segments.append(Segment(fileOffset: offset, vaddr: vaddr, size: size))
        }

        var symbols: [Symbol] = []
        var addresses: [String: UInt64] = [:]
        var seen: [UInt64: Int] = [:]  // address → index in symbols
        for wanted in [UInt32(2), UInt32(11)] {  // SHT_SYMTAB, then SHT_DYNSYM
            for index in 0..<UInt64(shnum) {
                let header = shoff + index * UInt64(shentsize)
                guard read(header + 4, UInt32.self) == wanted,
                      let tableOffset = read(header + 24, UInt64.self), let tableSize = read(header + 32, UInt64.self),
                      let link = read(header + 40, UInt32.self), let entrySize = read(header + 56, UInt64.self),
                      entrySize >= 24 else { continue }
                let stringsHeader = shoff + UInt64(link) * UInt64(shentsize)
                guard let stringsOffset = read(stringsHeader + 24, UInt64.self),
                      let stringsSize = read(stringsHeader + 32, UInt64.self),
                      stringsOffset <= UInt64(bytes.count), stringsSize <= UInt64(bytes.count) - stringsOffset
                else { continue }
                for symbol in stride(from: tableOffset, to: tableOffset + tableSize, by: Int(entrySize)) {
                    guard let nameOffset = read(symbol, UInt32.self), let info = read(symbol + 4, UInt8.self),
                          let section = read(symbol + 6, UInt16.self), let value = read(symbol + 8, UInt64.self),
                          let size = read(symbol + 16, UInt64.self),
                          functionTypes.contains(info & 0xf), section != 0, value != 0,
                          UInt64(nameOffset) < stringsSize else { continue }
                    let start = Int(stringsOffset) + Int(nameOffset)
                    let end = min(Int(stringsOffset + stringsSize), bytes.count)
                    let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<end]).prefix { $0 != 0 }
                    let name = String(decoding: nameBytes, as: UTF8.self)
                    if addresses[name] == nil { addresses[name] = value }
                    if let index = seen[value] {
                        // Of aliases, the public name (free, not __libc_free).
                        if symbols[index].name.hasPrefix("_"), !name.hasPrefix("_") {
                            symbols[index] = Symbol(start: value, size: size, name: name)
                        }
                        continue
                    }
                    seen[value] = symbols.count
                    symbols.append(Symbol(start: value, size: size, name: name))
                }
            }
        }
        return ELFSymbols(segments: segments, symbols: symbols.sorted { $0.start < $1.start }, addresses: addresses)
    }

    /// The file offset of a link-time address, through the loadable segment holding it.
    func fileOffset(ofVaddr vaddr: UInt64) -> UInt64? {
        segments.first { vaddr >= $0.vaddr && vaddr - $0.vaddr < $0.size }.map { vaddr - $0.vaddr + $0.fileOffset }
    }

    /// The link-time address of a file offset, through the loadable segment holding it.
    func vaddr(ofFileOffset offset: UInt64) -> UInt64? {
        segments.first { offset >= $0.fileOffset && offset - $0.fileOffset < $0.size }
            .map { offset - $0.fileOffset + $0.vaddr }
    }

    /// The function holding `vaddr`: the nearest symbol at or below it, if `vaddr` is within its size
    /// (or it has no size).
    func symbol(at vaddr: UInt64) -> Symbol? {
        var low = 0, high = symbols.count
        while low < high {
            let middle = (low + high) / 2
            if symbols[middle].start <= vaddr { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let symbol = symbols[low - 1]
        return symbol.size == 0 || vaddr - symbol.start < symbol.size ? symbol : nil
    }
}

/// Names user addresses `function+0xoff (binary)` through a process's memory map and the symbol
/// tables of the files mapped there (each file read once). Swift names are demangled.
public final class Symbolizer {
    private var files: [String: ELFSymbols?] = [:]

    public init() {}

    /// `address` is a return address (every frame of a stack walk is): the call before it is looked
    /// up, so a call that ends a function is not put in the next one.
    public func name(ofReturnAddress address: UInt64, in map: MemoryMap?) -> String {
        let raw = "0x" + String(address, radix: 16)
        guard address > 0, let map, let region = map.region(containing: address - 1) else { return raw }
        guard region.path.hasPrefix("/") else { return region.path.isEmpty ? raw : "\(raw) (\(region.path))" }
        let binary = (region.path as NSString).lastPathComponent
        let fileOffset = address - region.start + region.offset
        guard let symbols = symbols(of: region.path), let vaddr = symbols.vaddr(ofFileOffset: fileOffset - 1),
              let symbol = symbols.symbol(at: vaddr) else {
            return "\(raw) (\(binary)+0x\(String(fileOffset, radix: 16)))"
        }
        return "\(Self.demangle(symbol.name))+0x\(String(vaddr + 1 - symbol.start, radix: 16)) (\(binary))"
    }

    private func symbols(of path: String) -> ELFSymbols? {
        if let cached = files[path] { return cached }
        let loaded = ELFSymbols(path: path.hasSuffix(" (deleted)") ? String(path.dropLast(10)) : path)
        files[path] = loaded
        return loaded
    }

    /// A Swift symbol's readable name, through the runtime's demangler; other names as they are.
    static func demangle(_ name: String) -> String {
        guard name.hasPrefix("$s") || name.hasPrefix("_T") else { return name }
        return name.withCString { mangled in
            guard let demangled = swift_demangle(mangled, UInt(strlen(mangled)), nil, nil, 0) else { return name }
            defer { free(demangled) }
            return String(cString: demangled)
        }
    }
}

/// The Swift runtime's demangler (exported by libswiftCore; not declared in any module).
@_silgen_name("swift_demangle")
private func swift_demangle(_ mangledName: UnsafePointer<CChar>?, _ mangledNameLength: UInt,
                            _ outputBuffer: UnsafeMutablePointer<CChar>?, _ outputBufferSize: UnsafeMutablePointer<UInt>?,
                            _ flags: UInt32) -> UnsafeMutablePointer<CChar>?
