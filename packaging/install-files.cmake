#  Run by `cmake --install` (and CPack): writes the systemd units and the
#  default config for the prefix being installed to, so that ExecStart and
#  --config name where the files really are. ZCH_PACKAGING_DIR and
#  ZCH_EXAMPLES_DIR are set just before this script runs.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(zch_etc "/etc")
else()
    set(zch_etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(CMAKE_INSTALL_FULL_BINDIR "${CMAKE_INSTALL_PREFIX}/bin")
set(ZCH_CONFIG_FILE "${zch_etc}/zchannel/zchannel.zpl")
set(ZCH_KEYS_DIR "${zch_etc}/zchannel/keys")
file(READ "${ZCH_PACKAGING_DIR}/systemd/hardening.conf" ZCH_UNIT_HARDENING)
string(STRIP "${ZCH_UNIT_HARDENING}" ZCH_UNIT_HARDENING)

set(zch_unit_dir "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
foreach(unit zchannel-broker zchannel-source zchannel-subscriber zchannel)
    message(STATUS "Installing: ${zch_unit_dir}/${unit}.service")
    configure_file("${ZCH_PACKAGING_DIR}/systemd/${unit}.service.in"
                   "${zch_unit_dir}/${unit}.service" @ONLY)
endforeach()

#  Where `zchannel keygen` writes the keys the units load as credentials
#  (the folder must exist for LoadCredential=)
message(STATUS "Installing: $ENV{DESTDIR}${ZCH_KEYS_DIR}")
file(MAKE_DIRECTORY "$ENV{DESTDIR}${ZCH_KEYS_DIR}")

#  The default config, never over an operator's own
set(zch_config "$ENV{DESTDIR}${ZCH_CONFIG_FILE}")
if(NOT EXISTS "${zch_config}")
    message(STATUS "Installing: ${zch_config}")
    configure_file("${ZCH_EXAMPLES_DIR}/defaults.zpl" "${zch_config}" COPYONLY)
else()
    message(STATUS "Keeping: ${zch_config}")
endif()
