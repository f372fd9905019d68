//go:build !linux

package motoserver

import "os/exec"

func stopWithParent(*exec.Cmd) {}
