import Foundation

/// Where in a function to put an entry uprobe so that it costs least.
///
/// A uprobe replaces an instruction with int3; after the program runs, the kernel either emulates
/// the displaced instruction (x86: push of a register, jumps, conditional jumps, calls, nop) or
/// single-steps a copy of it, which costs a second trap and can be most of the probe's cost
/// (glibc's free starts with `test %rdi,%rdi`; bench/alloc-overhead.py measures it there and on the
/// `je` after it, docs/benchmarks.md). So when a function starts with an instruction that only sets
/// flags (test or cmp of registers and memory: the arguments and the stack pointer are still the
/// caller's) followed by one the kernel emulates, the probe goes on that second instruction. Anything else: offset 0.
/// Return probes always go at offset 0, where the return address is on top of the stack.
enum UprobeSite {
    /// The offset for an entry probe of `function` in the ELF file `binary`; 0 when unsure.
    static func entryOffset(of function: String, in binary: String) -> Int {
        guard let elf = ELFSymbols(path: binary), let vaddr = elf.addresses[function],
              let fileOffset = elf.fileOffset(ofVaddr: vaddr),
              let handle = FileHandle(forReadingAtPath: binary) else { return 0 }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: fileOffset)) != nil, let data = try? handle.read(upToCount: 16) else { return 0 }
        return entryOffset(code: Array(data))
    }

    /// The decision on a function's first bytes (see the type's comment).
    static func entryOffset(code: [UInt8]) -> Int {
        if isEmulated(code, at: 0) { return 0 }
        guard let length = flagsOnlyLength(code), isEmulated(code, at: length) else { return 0 }
        return length
    }

    /// The length of a first instruction that only sets flags, or nil.
    static func flagsOnlyLength(_ code: [UInt8]) -> Int? {
        guard code.count >= 8 else { return nil }
        // test r64, r64 (REX.W 85 /r, register form)
        if [0x48, 0x49, 0x4c, 0x4d].contains(code[0]), code[1] == 0x85, code[2] >= 0xc0 { return 3 }
        // test r32, r32
        if code[0] == 0x85, code[1] >= 0xc0 { return 2 }
        // cmpb $imm8, disp32(%rip)
        if code[0] == 0x80, code[1] == 0x3d { return 7 }
        return nil
    }

    /// Instructions the x86 uprobe code emulates instead of single-stepping.
    static func isEmulated(_ code: [UInt8], at offset: Int) -> Bool {
        guard offset + 1 < code.count else { return false }
        let first = code[offset], second = code[offset + 1]
        switch first {
        case 0x50...0x57, 0x90, 0x70...0x7f, 0xe8, 0xe9, 0xeb: return true  // push r, nop, jcc rel8, call, jmp
        case 0x41: return (0x50...0x57).contains(second)  // push r8-r15
        case 0x0f: return (0x80...0x8f).contains(second)  // jcc rel32
        default: return false
        }
    }
}
