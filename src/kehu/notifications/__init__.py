"""In-app notifications (the bell) and their e-mail copies, sent by the job runner."""
