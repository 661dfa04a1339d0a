# Sieve (on the mail server): file inquiries into their own folder. Sieve cannot run
# programs without a server extension, so a cron job on your machine captures that folder
# once it is synced (mbsync, offlineimap or fetchmail + a Maildir); see crontab below.
require ["fileinto"];
if address :is "to" "hello@consulting.example" {
    fileinto "Inquiries";
}
