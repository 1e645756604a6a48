// SPDX-License-Identifier: GPL-2.0-only
// capx-xdp-load: puts one program of an XDP object on an interface the way
// users do, for capx xdp's tests, and takes it off again.
//
//   capx-xdp-load OBJ PROG IFACE [--generic] [--link PIN] [--legacy] [--pin-maps DIR]
//       loads PROG, attaches it by netlink (or through a bpf_link pinned at
//       PIN), prints its program id and exits; the program stays.
//   capx-xdp-load --detach IFACE [--generic]
//       removes the netlink-attached program of IFACE.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

int usage()
{
	std::fprintf(stderr, "usage: capx-xdp-load OBJ PROG IFACE [--generic] [--link PIN] [--legacy] [--pin-maps DIR]\n"
			     "       capx-xdp-load --detach IFACE [--generic]\n");
	return 2;
}

int fail(const char *what, int err)
{
	std::fprintf(stderr, "capx-xdp-load: %s: %s\n", what, std::strerror(err));
	return 1;
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> pos;
	bool generic = false, legacy = false, detach = false;
	std::string link_pin, map_dir;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--generic")
			generic = true;
		else if (a == "--legacy")
			legacy = true;
		else if (a == "--detach")
			detach = true;
		else if (a == "--link" && i + 1 < argc)
			link_pin = argv[++i];
		else if (a == "--pin-maps" && i + 1 < argc)
			map_dir = argv[++i];
		else
			pos.push_back(a);
	}
	std::uint32_t mode = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	if (detach) {
		if (pos.size() != 1)
			return usage();
		int ifindex = static_cast<int>(if_nametoindex(pos[0].c_str()));
		if (!ifindex)
			return fail(pos[0].c_str(), errno);
		if (int err = bpf_xdp_detach(ifindex, mode, nullptr))
			return fail("detach", -err);
		return 0;
	}
	if (pos.size() != 3)
		return usage();
	int ifindex = static_cast<int>(if_nametoindex(pos[2].c_str()));
	if (!ifindex)
		return fail(pos[2].c_str(), errno);
	struct bpf_object *obj = bpf_object__open_file(pos[0].c_str(), nullptr);
	if (!obj)
		return fail(pos[0].c_str(), errno);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, pos[1].c_str());
	if (!prog)
		return fail(pos[1].c_str(), ENOENT);
	struct bpf_program *each;
	bpf_object__for_each_program(each, obj) bpf_program__set_autoload(each, each == prog);
	if (legacy)
		bpf_program__set_expected_attach_type(prog, static_cast<bpf_attach_type>(0));
	if (int err = bpf_object__load(obj))
		return fail("load", -err);
	// Each map by its name, '.' made '_' in the name only
	// (bpf_object__pin_maps() does it to the whole path).
	struct bpf_map *map;
	if (!map_dir.empty())
		bpf_object__for_each_map(map, obj)
		{
			std::string name = bpf_map__name(map);
			for (char &c : name)
				if (c == '.')
					c = '_';
			if (int err = bpf_map__pin(map, (map_dir + "/" + name).c_str()))
				return fail("pin map", -err);
		}
	int fd = bpf_program__fd(prog);
	if (!link_pin.empty()) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = generic ? XDP_FLAGS_SKB_MODE : 0u);
		int link = bpf_link_create(fd, ifindex, BPF_XDP, &opts);
		if (link < 0)
			return fail("link", errno);
		if (bpf_obj_pin(link, link_pin.c_str()))
			return fail("pin link", errno);
	} else if (int err = bpf_xdp_attach(ifindex, fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr)) {
		return fail("attach", -err);
	}
	bpf_prog_info info{};
	std::uint32_t len = sizeof info;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return fail("info", errno);
	std::printf("%u\n", info.id);
	return 0;
}
