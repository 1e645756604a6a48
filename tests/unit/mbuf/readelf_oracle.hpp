// SPDX-License-Identifier: GPL-2.0-only
// The file offset of a function as binutils' readelf computes it: its
// st_value from `readelf -sW`, through the PT_LOAD of `readelf -lW` that
// holds it. An oracle independent of capx's libelf reading.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace capx::test {

inline std::string run_command(const std::string &command)
{
	std::unique_ptr<FILE, int (*)(FILE *)> pipe(popen(command.c_str(), "r"), pclose);
	std::string out;
	if (!pipe)
		return out;
	char buf[4096];
	std::size_t n;
	while ((n = fread(buf, 1, sizeof(buf), pipe.get())) > 0)
		out.append(buf, n);
	return out;
}

inline std::optional<std::uint64_t> readelf_function_vaddr(const std::string &path, const std::string &name)
{
	std::istringstream in(run_command("readelf -sW '" + path + "' 2>/dev/null"));
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream f(line);
		std::string num, value, size, type, bind, vis, ndx, sym;
		if (!(f >> num >> value >> size >> type >> bind >> vis >> ndx >> sym))
			continue;
		if (type != "FUNC" || ndx == "UND")
			continue;
		if (sym == name || sym.rfind(name + "@", 0) == 0)
			return std::stoull(value, nullptr, 16);
	}
	return std::nullopt;
}

inline std::optional<std::uint64_t> readelf_file_offset(const std::string &path, std::uint64_t vaddr)
{
	std::istringstream in(run_command("readelf -lW '" + path + "' 2>/dev/null"));
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream f(line);
		std::string type, offset, va, pa, filesz;
		if (!(f >> type >> offset >> va >> pa >> filesz) || type != "LOAD")
			continue;
		std::uint64_t o = std::stoull(offset, nullptr, 16), v = std::stoull(va, nullptr, 16),
			      s = std::stoull(filesz, nullptr, 16);
		if (vaddr >= v && vaddr < v + s)
			return vaddr - v + o;
	}
	return std::nullopt;
}

inline std::optional<std::uint64_t> readelf_function_offset(const std::string &path, const std::string &name)
{
	auto vaddr = readelf_function_vaddr(path, name);
	if (!vaddr)
		return std::nullopt;
	return readelf_file_offset(path, *vaddr);
}

} // namespace capx::test
