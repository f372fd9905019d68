package motoserver

import (
	"os/exec"
	"syscall"
)

// stopWithParent: a test binary killed by its timeout takes its moto server along.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
