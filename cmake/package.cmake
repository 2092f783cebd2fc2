# Install layout and the Debian package (cpack -G DEB from the build dir):
# both binaries, /etc/heliograph/agent.yaml (conffile) and the empty drop-in
# directory /etc/heliograph/agent.d (as Telegraf's telegraf.d), the systemd unit,
# the sysusers.d user, and the man pages rendered from the programs' --help
# (scripts/help2man.sh) so the two cannot disagree.
set(HG_MAN_DIR ${CMAKE_BINARY_DIR}/man)
set(HG_MAN_PAGES ${HG_MAN_DIR}/agent.1.gz ${HG_MAN_DIR}/agentctl.1.gz ${HG_MAN_DIR}/agent.yaml.5.gz)
add_custom_command(
  OUTPUT ${HG_MAN_PAGES}
  COMMAND sh ${CMAKE_SOURCE_DIR}/scripts/help2man.sh $<TARGET_FILE:agent> $<TARGET_FILE:agentctl> ${HG_MAN_DIR} ${PROJECT_VERSION}
  COMMAND gzip -9nf ${HG_MAN_DIR}/agent.1 ${HG_MAN_DIR}/agentctl.1 ${HG_MAN_DIR}/agent.yaml.5
  DEPENDS agent agentctl ${CMAKE_SOURCE_DIR}/scripts/help2man.sh
  COMMENT "Man pages from --help and --sample-config")
add_custom_target(man ALL DEPENDS ${HG_MAN_PAGES})

install(PROGRAMS $<TARGET_FILE:agent> $<TARGET_FILE:agentctl> DESTINATION bin)
install(FILES ${HG_MAN_DIR}/agent.1.gz ${HG_MAN_DIR}/agentctl.1.gz DESTINATION share/man/man1)
install(FILES ${HG_MAN_DIR}/agent.yaml.5.gz DESTINATION share/man/man5)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/agent.yaml DESTINATION /etc/heliograph)
install(DIRECTORY DESTINATION /etc/heliograph/agent.d)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/heliograph-agent.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/heliograph.sysusers DESTINATION lib/sysusers.d RENAME heliograph.conf)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/heliograph)

# cpack packages what was built (cmake --build, or the targets agent,
# agentctl and man) instead of first building every test and benchmark.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME heliograph)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "small metrics agent for small Kubernetes nodes and hosts")
set(CPACK_PACKAGE_DESCRIPTION "Heliograph gathers node, container and kubelet metrics with Telegraf's
measurement names and writes InfluxDB line protocol in batches (agent), and
installs an InfluxDB + Grafana stack on Kubernetes, records deploy events and
converts telegraf.conf files (agentctl).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Heliograph maintainers <heliograph@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The agent loads libcurl (7.85 for CURLOPT_PROTOCOLS_STR) and libsnappy on first use
# (dlopen: base/curl_lazy.c), which dpkg-shlibdeps cannot see; CPack adds these to what it finds.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.85), libsnappy1v5")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "influxdb")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_SOURCE_DIR}/packaging/prerm
  ${CMAKE_SOURCE_DIR}/packaging/postrm ${CMAKE_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
